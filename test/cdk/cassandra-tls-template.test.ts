/**
 * Cassandra TLS and the first-boot gate as CloudFormation deploys them (stage-3, with the charts): the user data
 * EC2 receives (a literal: gzip, base64) renders the encryption options and keeps CQL closed; the secrets of the
 * CA start as placeholders (no key material in the template); IAM lets node 0 alone write the two CA secrets
 * (the other nodes read them) and nothing more on them, and lets the detector read the CA certificate, never the CA's key.
 */
import { gunzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { cassandraLogicalId } from "../../cdk/cassandra-nodes.ts";
import { cassandraSecretTags } from "../../cdk/cassandra-user-data.ts";
import { kitCharts } from "../../cdk/kit-charts.ts";
import { synthKit, type CfnTemplate } from "./kit-synth.ts";

type Resource = CfnTemplate["Resources"][string];
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

let resources: Record<string, Resource>;
let templateText: string;

beforeAll(() => {
  const { templates } = synthKit({ preset: "stage-3", experimentId: "tls" }, { charts: kitCharts, nag: false });
  resources = Object.assign({}, ...Object.values(templates).map((t) => t.Resources)) as Record<string, Resource>;
  templateText = JSON.stringify(templates);
}, 120_000);

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const secretId = (description: RegExp): string => {
  const found = ofType("AWS::SecretsManager::Secret").filter(([, r]) => description.test(String(r.Properties?.Description)));
  expect(found.map(([id]) => id)).toHaveLength(1);
  return found[0]![0];
};
const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
/** The statements of the policies attached to a role (by logical id) that name this resource's logical id. */
function statementsOn(roleId: string, resourceId: string): Statement[] {
  return ofType("AWS::IAM::Policy")
    .filter(([, p]) => JSON.stringify(p.Properties?.Roles).includes(roleId))
    .flatMap(([, p]) => (p.Properties?.PolicyDocument as { Statement: Statement[] }).Statement)
    .filter((s) => JSON.stringify(s.Resource).includes(resourceId));
}
const instances = () => ofType("AWS::EC2::Instance").filter(([id]) => id.startsWith("CassandraNode"));
const roleOf = (name: RegExp): string => {
  const found = ofType("AWS::IAM::Role").filter(([id]) => name.test(id));
  expect(found).toHaveLength(1);
  return found[0]![0];
};

describe("Cassandra TLS in the template", () => {
  it("sends every node gzip'd user data that requires TLS on both ports and starts with CQL closed", () => {
    expect(instances()).toHaveLength(3);
    for (const [id, instance] of instances()) {
      const userData = instance.Properties?.UserData;
      expect(typeof userData, id).toBe("string");
      const raw = Buffer.from(userData as string, "base64");
      expect(raw.length).toBeLessThan(16_384);
      const script = gunzipSync(raw).toString("utf8");
      expect(script).toMatch(/^server_encryption_options:\n {2}internode_encryption: all\n {2}optional: false\n/m);
      expect(script).toMatch(/^client_encryption_options:\n {2}enabled: true\n {2}optional: false\n/m);
      expect(script).toContain("start_native_transport: false\n");
    }
  });

  it("hands each node its secrets' ARNs as instance tags it can read from the metadata", () => {
    for (const [, instance] of instances()) {
      expect(instance.Properties?.MetadataOptions).toMatchObject({ HttpTokens: "required", InstanceMetadataTags: "enabled" });
      const tags = instance.Properties?.Tags as { Key: string; Value: unknown }[];
      const byKey = new Map(tags.map((t) => [t.Key, JSON.stringify(t.Value)]));
      expect(byKey.get(cassandraSecretTags.ca)).toContain(secretId(/cluster CA \(key and certificate\)/));
      expect(byKey.get(cassandraSecretTags.caCertificate)).toContain(secretId(/CA certificate \(public\)/));
      // Instance-metadata tags allow no '/' or spaces in keys; a launch with one would fail.
      for (const key of byKey.keys()) expect(key).toMatch(/^[A-Za-z0-9+\-=.,_:@]+$/);
    }
  });

  it("holds no key material: both CA secrets start as a generated placeholder", () => {
    for (const id of [secretId(/cluster CA \(key and certificate\)/), secretId(/CA certificate \(public\)/)]) {
      expect(resources[id]!.Properties).toHaveProperty("GenerateSecretString");
      expect(resources[id]!.Properties).not.toHaveProperty("SecretString");
    }
    expect(templateText).not.toMatch(/BEGIN [A-Z ]*PRIVATE KEY|BEGIN CERTIFICATE/);
  });

  it("lets node 0 alone write the two CA secrets; the other nodes only read them, and nothing else on them", () => {
    const caIds = [secretId(/cluster CA \(key and certificate\)/), secretId(/CA certificate \(public\)/)];
    // Each node's role, through its instance profile.
    const roleOfNode = new Map(
      instances().map(([id, instance]) => {
        const profile = resources[(instance.Properties?.IamInstanceProfile as { Ref: string }).Ref]!;
        return [id, (profile.Properties?.Roles as { Ref: string }[]).map((r) => r.Ref)] as const;
      }),
    );
    const [first, ...others] = instances().map(([id]) => id);
    expect(first).toBe(cassandraLogicalId(0));
    expect(roleOfNode.get(first!)).toHaveLength(1);
    const setupRole = roleOfNode.get(first!)![0]!;
    for (const id of others) {
      expect(roleOfNode.get(id)).toHaveLength(1);
      expect(roleOfNode.get(id)![0], id).not.toBe(setupRole);
    }
    const memberRole = roleOfNode.get(others[0]!)![0]!;
    for (const id of caIds) {
      expect(statementsOn(setupRole, id).flatMap(actions).sort()).toEqual([
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
      ]);
      expect(statementsOn(memberRole, id).flatMap(actions)).toEqual(["secretsmanager:GetSecretValue"]);
      // No other role of the kit may write them.
      const writers = ofType("AWS::IAM::Policy")
        .filter(([, p]) => JSON.stringify(p.Properties?.PolicyDocument).includes(id))
        .filter(([, p]) =>
          (p.Properties?.PolicyDocument as { Statement: Statement[] }).Statement.some(
            (s) => JSON.stringify(s.Resource).includes(id) && actions(s).some((a) => !/:(Get|Describe)/.test(a)),
          ),
        )
        .flatMap(([, p]) => (p.Properties?.Roles as { Ref: string }[]).map((r) => r.Ref));
      expect(writers).toEqual([setupRole]);
    }
    // The role passwords are node 0's set-up's alone.
    for (const id of [secretId(/admin superuser password/), secretId(/password of the detector role/)]) {
      expect(statementsOn(memberRole, id)).toEqual([]);
      expect(statementsOn(setupRole, id).flatMap(actions)).toContain("secretsmanager:GetSecretValue");
    }
  });

  it("lets the detector read the CA certificate and never the CA's key, and hands it the certificate's secret", () => {
    const detectorRole = roleOf(/^DetectorRole/);
    expect(statementsOn(detectorRole, secretId(/CA certificate \(public\)/)).flatMap(actions)).toEqual(["secretsmanager:GetSecretValue"]);
    expect(statementsOn(detectorRole, secretId(/cluster CA \(key and certificate\)/))).toEqual([]);
    // Every pod given the setting (detector, schema Job) gets the public certificate's secret, imported from
    // the Cassandra stack, never the CA key's: with the key's the detector would wait for a certificate it may not read.
    const publicId = secretId(/CA certificate \(public\)/);
    const values = [...templateText.matchAll(/CASSANDRA_TLS_CA_SECRET_ARN\\",\\"value\\":\\"",(\{[^}]*\})/g)].map((m) => m[1]!);
    expect(values.length).toBeGreaterThanOrEqual(2);
    for (const v of values) expect(v).toMatch(new RegExp(`"Fn::ImportValue":"[^"]*ExportsOutputRef${publicId}`));
  });
});
