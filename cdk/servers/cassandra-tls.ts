/**
 * Cassandra client-to-node and internode TLS: the certificate-making script (cassandra-tls.sh beside this
 * file) and the names of the files it makes. One script for the cloud's nodes (EC2 user data) and the local
 * stack's TLS mode, so the local integration test exercises the certificates the cloud deploys; the
 * cassandra.yaml options that use the files are rendered by cassandra-config.ts for both.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Where the script lives in the repository (the local stack runs it from here). */
export const cassandraTlsScriptPath = fileURLToPath(new URL("./cassandra-tls.sh", import.meta.url));

/** The script's text, embedded verbatim in every node's user data. */
export const cassandraTlsScript = (): string => readFileSync(cassandraTlsScriptPath, "utf8");

/** What `cassandra-tls.sh ca <dir>` makes: the CA's key + certificate (secret), and its certificate (public). */
export const caFiles = (dir: string) => ({ bundle: join(dir, "ca-bundle.pem"), certificate: join(dir, "ca.pem") });

/** What `cassandra-tls.sh node … <dir>` makes: the PEM "keystore" (key + chain) and "truststore" (the CA). */
export interface CassandraTlsFiles {
  readonly keystore: string;
  readonly truststore: string;
}
export const nodeTlsFiles = (dir: string): CassandraTlsFiles => ({
  keystore: join(dir, "keystore.pem"),
  truststore: join(dir, "truststore.pem"),
});
