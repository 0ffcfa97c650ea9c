/**
 * TLS to Cassandra: the CA certificate the detector trusts, from Secrets Manager in the cloud (node 0 publishes
 * the cluster's CA certificate there once its set-up has ended) or from a file with the local stack's TLS mode,
 * and the driver's TLS options built from it. Without a CA source the driver speaks plaintext, as to the shared
 * local node.
 */
import { readFile } from "node:fs/promises";
import type { ConnectionOptions } from "node:tls";
import { GetSecretValueCommand, SecretsManagerClient, type SecretsManagerClientConfig } from "@aws-sdk/client-secrets-manager";
import type { DetectorConfig } from "../config.ts";
import { waitFor } from "../retry.ts";

/** A PEM certificate: what a CA source must hold before it is trusted (the stack's placeholder is not one). */
export const pemCertificatePattern = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

export type CassandraTlsConfig = Pick<DetectorConfig, "cassandraTlsCaSecretArn" | "cassandraTlsCaFile"> &
  Partial<Pick<DetectorConfig, "schemaWaitSeconds">>;

/** How often the CA certificate secret is read again while it still holds the stack's placeholder. */
const defaultPollMs = 10_000;

const regionOfArn = (arn: string): string => arn.split(":")[3] ?? "";

/**
 * The CA certificate (PEM) to trust, or null: plaintext. A secret that does not hold a certificate yet (the
 * cluster is still setting up) is read again every 10 s (`pollMs`) for up to `schemaWaitSeconds` (900 s by
 * default): the detector and the schema Job may start before node 0 has published it.
 */
export async function readCassandraTlsCa(
  c: CassandraTlsConfig,
  client: SecretsManagerClientConfig = {},
  pollMs: number = defaultPollMs,
): Promise<string | null> {
  const file = c.cassandraTlsCaFile;
  const arn = c.cassandraTlsCaSecretArn;
  if (file === "" && arn === "") return null;
  if (file !== "" && arn !== "") throw new Error("Cassandra TLS needs one CA certificate source: a secret ARN or a file, not both");
  if (file !== "") {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      throw new Error(`cannot read the Cassandra CA certificate file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    if (!pemCertificatePattern.test(text)) throw new Error(`the Cassandra CA certificate file ${file} holds no PEM certificate`);
    return text;
  }
  const secrets = new SecretsManagerClient({ region: regionOfArn(arn), ...client });
  try {
    return await waitFor(
      async () => {
        const text = (await secrets.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString ?? "";
        return pemCertificatePattern.test(text) ? text : undefined;
      },
      {
        what: `a PEM certificate in secret ${arn} (node 0 publishes the cluster's CA certificate there when its set-up ends)`,
        timeoutMs: (c.schemaWaitSeconds ?? 900) * 1000,
        intervalMs: pollMs,
      },
    );
  } finally {
    secrets.destroy();
  }
}

/**
 * The driver's TLS options: only the cluster's CA is trusted (the driver's own default would accept any
 * certificate), and Node checks the node's certificate against the address connected to: nodes are reached by
 * IP address, and each node's certificate names its address as an IP subjectAltName (cassandra-tls.sh).
 */
export const sslOptionsOf = (ca: string): ConnectionOptions => ({ ca: [ca], rejectUnauthorized: true, minVersion: "TLSv1.2" });
