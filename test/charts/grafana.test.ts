/**
 * Grafana in the deployed kit: the admin password comes from a Secret made inside the cluster (never in the
 * manifests, so never in git or the CloudFormation template), anonymous viewers only on request, and no pod may
 * connect to it (the user's port-forward is not subject to NetworkPolicy). The Job's script runs for real, with
 * Node, against recorded Kubernetes API responses on a loopback replay server.
 */
import { execFile, execFileSync } from "node:child_process";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { sizePlanFrom } from "../../cdk/size/size-plan.ts";
import { grafanaAdmin } from "../../charts/grafana-admin-secret.ts";
import { components, selectorLabels } from "../../charts/names.ts";
import { synthesizeManifests } from "../../charts/synth.ts";
import { ReplayServer } from "../recorded/replay-server.ts";
import { recorded } from "../recorded/recorded.ts";
import { envOf, find, fullOptions, podSpecOf, presetManifests, type K8sObject } from "./fixtures.ts";

const run = promisify(execFile);
const kubernetes = (name: string) => recorded(`kubernetes/${name}`);

type Policy = {
  podSelector: unknown;
  policyTypes: string[];
  ingress?: { from?: { podSelector?: { matchLabels: Record<string, string> } }[]; ports: { port: number }[] }[];
};
type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };

const { objects, plan } = presetManifests("stage-3");
const namespace = plan.experimentId;
const grafana = podSpecOf(find(objects, "Deployment", components.grafana));
const grafanaContainer = grafana.containers[0]!;
const jobs = objects.filter((o) => o.kind === "Job" && o.metadata.labels?.["app.kubernetes.io/name"] === components.grafanaAdminSecret);

describe("Grafana's admin login", () => {
  it("reads its password from the grafana-admin Secret, which no manifest contains", () => {
    const env = envOf(grafanaContainer);
    expect(env.GF_SECURITY_ADMIN_PASSWORD).toBeUndefined();
    expect(env.GF_SECURITY_ADMIN_USER).toBe(grafanaAdmin.user);
    const file = env.GF_SECURITY_ADMIN_PASSWORD__FILE!;
    const mounts = grafanaContainer.volumeMounts as { name: string; mountPath: string }[];
    const mount = mounts.find((m) => file.startsWith(`${m.mountPath}/`))!;
    const volume = (
      grafana.volumes as { name: string; secret?: { secretName: string; optional?: boolean; items: { key: string; path: string }[] } }[]
    ).find((v) => v.name === mount.name)!;
    expect(volume.secret?.secretName).toBe(grafanaAdmin.secretName);
    expect(volume.secret?.optional ?? false).toBe(false);
    expect(volume.secret?.items).toEqual([{ key: grafanaAdmin.secretKey, path: file.slice(mount.mountPath.length + 1) }]);
    // Nothing synthesized holds it: no Secret object at all, and Grafana's default password nowhere.
    expect(objects.filter((o) => o.kind === "Secret")).toEqual([]);
    expect(JSON.stringify(objects)).not.toMatch(/ADMIN_PASSWORD"\s*,\s*"value"/);
  });

  it("one Job makes the Secret, with a ServiceAccount that may create Secrets in the namespace and nothing else", () => {
    expect(jobs).toHaveLength(1);
    const pod = podSpecOf(jobs[0]!);
    expect(pod.containers[0]!.image).toBe(fullOptions.app!.image);
    expect(pod.automountServiceAccountToken).toBe(true);
    const account = pod.serviceAccountName as string;
    const bindings = objects.filter(
      (o) =>
        (o.kind === "RoleBinding" || o.kind === "ClusterRoleBinding") &&
        (o as K8sObject & { subjects: { name: string }[] }).subjects.some((s) => s.name === account),
    ) as (K8sObject & { roleRef: { kind: string; name: string } })[];
    expect(bindings.map((b) => [b.kind, b.metadata.namespace])).toEqual([["RoleBinding", namespace]]);
    expect((find(objects, "Role", bindings[0]!.roleRef.name) as K8sObject & { rules: Rule[] }).rules).toEqual([
      { apiGroups: [""], resources: ["secrets"], verbs: ["create"] },
    ]);
    const policy = find(objects, "NetworkPolicy", components.grafanaAdminSecret).spec as Policy & {
      egress: { ports: { port: number }[] }[];
    };
    expect(policy.ingress).toBeUndefined();
    expect(policy.egress.flatMap((r) => r.ports.map((p) => p.port)).sort((a, b) => a - b)).toEqual([53, 53, 443, 6443]);
  });
});

describe("Grafana's access", () => {
  it("admits no peer: only the user's port-forward reaches it", () => {
    const policy = find(objects, "NetworkPolicy", components.grafana).spec as Policy;
    expect(policy.policyTypes).toContain("Ingress");
    expect(policy.ingress).toBeUndefined();
  });

  it("Jaeger's UI port admits Grafana's pods only", () => {
    const policy = find(objects, "NetworkPolicy", components.jaeger).spec as Policy;
    const ui = (policy.ingress ?? []).filter((r) => r.ports.some((p) => p.port === 16686));
    expect(ui.map((r) => r.from?.map((f) => f.podSelector?.matchLabels))).toEqual([[selectorLabels(components.grafana)]]);
  });

  it("has anonymous viewers off unless the option asks for them", () => {
    expect(envOf(grafanaContainer).GF_AUTH_ANONYMOUS_ENABLED).toBe("false");
    expect(envOf(grafanaContainer).GF_AUTH_ANONYMOUS_ORG_ROLE).toBeUndefined();
    const open = synthesizeManifests(sizePlanFrom({ preset: "stage-3" }), { ...fullOptions, grafana: { anonymousViewers: true } }).flatMap(
      (m) => m.objects as K8sObject[],
    );
    const env = envOf(podSpecOf(find(open, "Deployment", components.grafana)).containers[0]!);
    expect(env).toMatchObject({ GF_AUTH_ANONYMOUS_ENABLED: "true", GF_AUTH_ANONYMOUS_ORG_ROLE: "Viewer" });
  });
});

describe("the Job's script against the Kubernetes API (recorded responses)", () => {
  const server = new ReplayServer();
  const dir = mkdtempSync(join(tmpdir(), "grafana-admin-"));
  const tokenFile = join(dir, "token");
  writeFileSync(tokenFile, "test-service-account-token\n");
  afterAll(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Runs the Job's container command with its env, the API and token pointed at the test's. The cluster CA
   * (NODE_EXTRA_CA_CERTS) is the test's too: `caFile`, or none for the plain-HTTP replay server.
   */
  async function runJob(api?: { url: string; caFile?: string }): Promise<{ code: number; stdout: string; stderr: string }> {
    const endpoint = api?.url ?? (server.endpoint === "" ? await server.start() : server.endpoint);
    const container = podSpecOf(jobs[0]!).containers[0]!;
    const [node, ...args] = container.command as string[];
    expect(node).toBe("node");
    expect(envOf(container).NODE_EXTRA_CA_CERTS).toBe("/var/run/secrets/kubernetes.io/serviceaccount/ca.crt");
    const env: Record<string, string | undefined> = {
      ...envOf(container),
      KUBERNETES_API_URL: endpoint,
      SERVICE_ACCOUNT_TOKEN_FILE: tokenFile,
      NODE_EXTRA_CA_CERTS: api?.caFile,
      PATH: process.env.PATH,
    };
    if (env.NODE_EXTRA_CA_CERTS === undefined) delete env.NODE_EXTRA_CA_CERTS;
    try {
      const { stdout, stderr } = await run(process.execPath, args, { env, timeout: 20_000 });
      return { code: 0, stdout, stderr };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, stdout: err.stdout, stderr: err.stderr };
    }
  }
  const path = `POST /api/v1/namespaces/${namespace}/secrets`;

  it("creates the Secret with a random password, authenticated by the pod's token", async () => {
    server.reset();
    server.add({
      match: path,
      status: 201,
      headers: { "content-type": "application/json" },
      body: kubernetes("secrets-create.created.json"),
    });
    server.add({
      match: path,
      status: 201,
      headers: { "content-type": "application/json" },
      body: kubernetes("secrets-create.created.json"),
    });
    const first = await runJob();
    const second = await runJob();
    expect(first).toMatchObject({ code: 0, stdout: `created secret ${namespace}/${grafanaAdmin.secretName}\n` });
    expect(server.unmatched).toEqual([]);
    const [a, b] = server.requests;
    expect(a!.headers.authorization).toBe("Bearer test-service-account-token");
    const secret = JSON.parse(a!.body) as { metadata: { name: string; namespace: string }; data: Record<string, string> };
    expect(secret.metadata).toMatchObject({ name: grafanaAdmin.secretName, namespace });
    const password = Buffer.from(secret.data[grafanaAdmin.secretKey]!, "base64").toString("utf8");
    expect(password).toMatch(new RegExp(`^[A-Za-z0-9_-]{${Math.ceil((grafanaAdmin.passwordBytes * 4) / 3)}}$`));
    const other = Buffer.from((JSON.parse(b!.body) as typeof secret).data[grafanaAdmin.secretKey]!, "base64").toString("utf8");
    expect(other).not.toBe(password);
    // The password is never printed.
    expect(first.stdout + first.stderr + second.stdout + second.stderr).not.toContain(password);
  });

  it("keeps an existing Secret (409 AlreadyExists) and succeeds", async () => {
    server.reset();
    server.add({
      match: path,
      status: 409,
      headers: { "content-type": "application/json" },
      body: kubernetes("secrets-create.already-exists.json"),
    });
    const result = await runJob();
    expect(result).toMatchObject({ code: 0, stdout: `secret ${namespace}/${grafanaAdmin.secretName} exists; kept as it is\n` });
    expect(server.requests).toHaveLength(1);
  });

  it("trusts the API server's certificate through the cluster CA file (NODE_EXTRA_CA_CERTS), and only then", async () => {
    // A self-signed certificate for the API server's name stands in for the cluster CA (openssl: Node makes no X.509).
    const key = join(dir, "api.key");
    const cert = join(dir, "api.crt");
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=kubernetes.default.svc",
        "-addext",
        "subjectAltName=DNS:kubernetes.default.svc,IP:127.0.0.1",
        "-keyout",
        key,
        "-out",
        cert,
      ],
      { stdio: "ignore" },
    );
    const seen: string[] = [];
    const https = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
      seen.push(`${req.method} ${req.url}`);
      req.resume();
      req.on("end", () => res.writeHead(201, { "content-type": "application/json" }).end(kubernetes("secrets-create.created.json")));
    });
    await new Promise<void>((resolve) => https.listen(0, "127.0.0.1", resolve));
    const url = `https://127.0.0.1:${(https.address() as AddressInfo).port}`;
    try {
      expect(await runJob({ url, caFile: cert })).toMatchObject({
        code: 0,
        stdout: `created secret ${namespace}/${grafanaAdmin.secretName}\n`,
      });
      expect(seen).toEqual([path]);
      const untrusted = await runJob({ url });
      expect(untrusted.code).toBe(1);
      expect(untrusted.stderr).toMatch(/creating secret .*: fetch failed \(.*(self-signed|certificate)/);
      expect(seen).toEqual([path]);
    } finally {
      https.closeAllConnections();
      await new Promise<void>((resolve) => https.close(() => resolve()));
    }
  });

  it("fails with the API's reason when it may not create it", async () => {
    server.reset();
    server.add({
      match: path,
      status: 403,
      headers: { "content-type": "application/json" },
      body: kubernetes("secrets-create.forbidden.json"),
    });
    const result = await runJob();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`creating secret ${namespace}/${grafanaAdmin.secretName}: HTTP 403 Forbidden: secrets is forbidden`);
  });
});
