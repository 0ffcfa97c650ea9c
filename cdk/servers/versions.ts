/**
 * Server versions, the same locally (Maven Central artifacts) and in the cloud.
 * Kafka 3.9 is the newest line that both Amazon MSK offers and kafkajs 2.2.4 speaks to (Kafka 4.0
 * removed the old protocol versions kafkajs uses); Cassandra 5.0 is the first line that runs on Java 17.
 */
export const kafkaVersion = "3.9.1";
/** MSK names versions by minor line with patch releases managed by AWS. */
export const mskKafkaVersion = `${kafkaVersion.split(".").slice(0, 2).join(".")}.x`;
export const cassandraVersion = "5.0.9";
/** Lowest Java feature release both servers run on. */
export const minimumJavaVersion = 17;
