/**
 * Server versions, the same locally (Maven Central artifacts) and in the cloud.
 * Kafka 3.9 is the newest line that both Amazon MSK offers and kafkajs 2.2.4 speaks to (Kafka 4.0
 * removed the old protocol versions kafkajs uses); Cassandra 5.0 is the first line that runs on Java 17.
 */
export const kafkaVersion = "3.9.1";
/** MSK names versions by minor line with patch releases managed by AWS. */
export const mskKafkaVersion = `${kafkaVersion.split(".").slice(0, 2).join(".")}.x`;
export const cassandraVersion = "5.0.9";
/**
 * SHA-512 of Apache's binary release of cassandraVersion (apache-cassandra-<version>-bin.tar.gz, the value of
 * the release's .sha512 file). The cloud nodes verify their download against this, whichever mirror served it.
 */
export const cassandraSha512 =
  "beaf3df6342ef1a0ccc83fa80214f250b32c35cfbb1af591b00e3fd539eef0915bc3b89f0e7ae73f6d50cbb03f6075c4e4cf32d3c46ff9c33f745542fcc925df";
/** Lowest Java feature release both servers run on. */
export const minimumJavaVersion = 17;
