/**
 * Readiness of what the ring metrics cannot show:
 * - node 0's first-boot set-up (TLS CA, roles, system_auth): node 0 writes its outcome into the CA certificate
 *   secret, the PEM certificate when it has ended, or its error after `cassandraSetupFailedMarker` when it
 *   failed (cdk/cassandra-user-data.ts). The secret is found from node 0's instance tags. A failure is final:
 *   the stage fails at once, quoting node 0's error, instead of waiting out the budget with every node Up/Normal;
 * - CQL answering over TLS as the detector role: the schema Job (charts/schema-job.ts) logs in as that role
 *   with the published CA and creates the schema, so its success proves the path the detectors take.
 */
import { DescribeInstancesCommand, type EC2Client } from "@aws-sdk/client-ec2";
import { GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { pemCertificatePattern } from "../../app/detector/cassandra-tls.ts";
import { cassandraInstanceName } from "../../cdk/cassandra-nodes.ts";
import { cassandraDetectorRole, cassandraSecretTags, cassandraSetupFailedMarker } from "../../cdk/cassandra-user-data.ts";
import type { SizePlan } from "../../cdk/size/size-plan.ts";
import { components, selectorLabels } from "../../charts/names.ts";
import type { KubeApi, ReadinessCheck } from "./readiness.ts";

type Outcome = Omit<ReadinessCheck, "name">;

export async function cassandraSetupReadiness(ec2: EC2Client, secrets: SecretsManagerClient, plan: SizePlan): Promise<Outcome> {
  const name = cassandraInstanceName(plan.experimentId, 0);
  const { Reservations = [] } = await ec2.send(
    new DescribeInstancesCommand({
      Filters: [
        { Name: "tag:Name", Values: [name] },
        { Name: "instance-state-name", Values: ["pending", "running"] },
      ],
    }),
  );
  const node0 = Reservations.flatMap((r) => r.Instances ?? [])[0];
  if (node0 === undefined) return { ready: false, detail: `node 0 (${name}) not running yet` };
  const secretArn = node0.Tags?.find((t) => t.Key === cassandraSecretTags.caCertificate)?.Value;
  if (secretArn === undefined) return { ready: false, detail: `node 0 (${name}) has no ${cassandraSecretTags.caCertificate} tag` };
  const text = (await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }))).SecretString ?? "";
  if (pemCertificatePattern.test(text)) return { ready: true, detail: "node 0's set-up ended; CA certificate published" };
  const failed = text.indexOf(cassandraSetupFailedMarker);
  if (failed >= 0) return { ready: false, fatal: true, detail: `node 0 (${name}): ${text.slice(failed).trim()}` };
  return { ready: false, detail: "node 0's set-up still running" };
}

interface JobList {
  items: {
    metadata: { name: string; creationTimestamp?: string };
    status?: {
      succeeded?: number;
      active?: number;
      failed?: number;
      conditions?: { type: string; status: string; reason?: string; message?: string }[];
    };
  }[];
}

/** The newest schema Job (a new one per image or settings change) succeeded. */
export async function schemaJobReadiness(kube: KubeApi, namespace: string): Promise<Outcome> {
  const selector = Object.entries(selectorLabels(components.schema))
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  const jobs = await kube.get<JobList>(
    `/apis/batch/v1/namespaces/${encodeURIComponent(namespace)}/jobs?labelSelector=${encodeURIComponent(selector)}`,
  );
  const newest = [...jobs.items]
    .sort((a, b) => (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? ""))
    .at(-1);
  if (newest === undefined) return { ready: false, detail: "no schema Job yet" };
  const job = newest.metadata.name;
  if ((newest.status?.succeeded ?? 0) > 0)
    return { ready: true, detail: `${job} succeeded: CQL answered over TLS as ${cassandraDetectorRole}` };
  const failed = newest.status?.conditions?.find((c) => c.type === "Failed" && c.status === "True");
  if (failed !== undefined) return { ready: false, detail: `${job} failed: ${failed.reason ?? ""} ${failed.message ?? ""}`.trim() };
  return { ready: false, detail: `${job} running (${newest.status?.failed ?? 0} failed attempt(s))` };
}
