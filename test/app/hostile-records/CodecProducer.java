// Sends records with a compression codec of Kafka's own Java client (zstd, lz4, snappy: codecs kafkajs lacks),
// all of them in one batch per partition. Run as a single-file program: java -cp <kafka-clients + codecs> CodecProducer.java
//   args:   <bootstrap> <topic> <compression.type>
//   stdin:  one record per line, "<key base64> <value base64>"
//   stdout: one JSON line per record, {"i":n,"partition":p,"offset":o} or {"i":n,"error":"..."}
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class CodecProducer {
  public static void main(String[] args) throws Exception {
    Properties p = new Properties();
    p.put("bootstrap.servers", args[0]);
    p.put("compression.type", args[2]);
    p.put("key.serializer", ByteArraySerializer.class.getName());
    p.put("value.serializer", ByteArraySerializer.class.getName());
    p.put("acks", "all");
    p.put("enable.idempotence", "false");
    // Everything in one batch per partition: linger until flush(), batches and requests large enough.
    p.put("linger.ms", "60000");
    p.put("batch.size", String(16 * 1024 * 1024));
    p.put("max.request.size", String(64 * 1024 * 1024));
    p.put("buffer.memory", String(128 * 1024 * 1024));
    p.put("retries", "0");
    p.put("delivery.timeout.ms", "120000");
    List<Future<RecordMetadata>> sent = new ArrayList<>();
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
      BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      for (String line; (line = in.readLine()) != null && !line.isEmpty(); ) {
        String[] kv = line.split(" ");
        sent.add(producer.send(new ProducerRecord<>(args[1], Base64.getDecoder().decode(kv[0]), Base64.getDecoder().decode(kv[1]))));
      }
      producer.flush();
      for (int i = 0; i < sent.size(); i++) {
        try {
          RecordMetadata m = sent.get(i).get();
          System.out.println("{\"i\":" + i + ",\"partition\":" + m.partition() + ",\"offset\":" + m.offset() + "}");
        } catch (Exception e) {
          Throwable cause = e.getCause() != null ? e.getCause() : e;
          String text = (cause.getClass().getSimpleName() + ": " + cause.getMessage()).replace("\\", "\\\\").replace("\"", "'");
          System.out.println("{\"i\":" + i + ",\"error\":\"" + text + "\"}");
        }
      }
    }
  }

  private static String String(int n) {
    return Integer.toString(n);
  }
}
