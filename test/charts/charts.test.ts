/**
 * What the charts promise, for every preset: sizes from the size plan, the "restricted" Pod Security Standard,
 * monitors that select real Services, NetworkPolicies that let exactly the scrapes and traces through,
 * manifests small enough for the CDK's kubectl Lambda, and a snapshot of each preset's manifests.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseAllDocuments } from "yaml";
import { detectorEnvNames, loadgenEnvNames, parseDetectorConfig, parseLoadgenConfig } from "../../app/config.ts";
import { appHttpPort } from "../../app/topology.ts";
import { nodeHeapEnv } from "../../cdk/size/node-heap.ts";
import { detectorMaxOldSpaceMiB, sizePlanFrom } from "../../cdk/size/size-plan.ts";
import { alertRules } from "../../charts/alert-rules.ts";
import { components, selectorLabels } from "../../charts/names.ts";
import { cpuQuantity, memoryQuantity } from "../../charts/pod-security.ts";
import { schemaJobSettings } from "../../charts/schema-job.ts";
import { main, standaloneEndpoints, synthesizeManifests, usageErrorExitCode } from "../../charts/synth.ts";
import {
  envFromPodOf,
  envOf,
  find,
  fullOptions,
  podSpecOf,
  presetManifests,
  presetNames,
  type Container,
  type K8sObject,
  type PodSpec,
} from "./fixtures.ts";

const matches = (selector: Record<string, string>, labels: Record<string, string> | undefined) =>
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

const deployments = (objects: K8sObject[]) => objects.filter((o) => o.kind === "Deployment");
/** Everything that runs pods of ours: the Deployments and the schema Job. */
const workloads = (objects: K8sObject[]) => objects.filter((o) => o.kind === "Deployment" || o.kind === "Job");
const jobs = (objects: K8sObject[]) => objects.filter((o) => o.kind === "Job");
/** The schema Jobs (the other Job makes Grafana's admin Secret; test/charts/grafana.test.ts). */
const schemaJobs = (objects: K8sObject[]) =>
  jobs(objects).filter((o) => o.metadata.labels?.["app.kubernetes.io/name"] === components.schema);

describe.each(presetNames)("preset %s", (preset) => {
  const { plan, manifests, objects } = presetManifests(preset);

  it("every manifest the CDK applies stays under 200 KB (YAML and the JSON the kubectl Lambda gets)", () => {
    for (const m of manifests) {
      expect(Buffer.byteLength(m.yaml), m.file).toBeLessThan(200_000);
      expect(Buffer.byteLength(JSON.stringify(m.objects)), m.file).toBeLessThan(200_000);
    }
  });

  it("the detector's replicas, resources and knobs are the size plan's", () => {
    const deployment = find(objects, "Deployment", components.detector);
    expect(deployment.spec?.replicas).toBe(plan.detector.pods);
    const container = podSpecOf(deployment).containers[0]!;
    expect(container.resources).toEqual({
      requests: { cpu: cpuQuantity(plan.detector.cpu), memory: memoryQuantity(plan.detector.memoryMiB) },
      limits: { cpu: cpuQuantity(plan.detector.cpu), memory: memoryQuantity(plan.detector.memoryMiB) },
    });
    // Read back the way the app reads its environment: unknown or invalid values would throw here.
    const config = parseDetectorConfig({ env: envOf(container) });
    expect(config).toMatchObject({
      consumersPerProcess: plan.detector.consumersPerPod,
      detectorConcurrency: plan.detector.concurrency,
      cassandraConnectionsPerHost: plan.detector.cassandraConnectionsPerHost,
      requestsPerConnection: plan.detector.requestsPerConnection,
      partitions: plan.kafka.partitions,
      topicReplicationFactor: plan.kafka.replicationFactor,
      replicationFactor: plan.cassandra.replicationFactor,
      metricsPort: appHttpPort,
      kafkaBrokers: fullOptions.endpoints.kafkaBrokers.split(","),
      cassandraContactPoints: fullOptions.endpoints.cassandraContactPoints.split(","),
      cassandraLocalDataCenter: fullOptions.endpoints.cassandraLocalDataCenter,
      kafkaAuth: "aws-iam",
      awsRegion: "us-east-1",
      cassandraUsername: fullOptions.endpoints.cassandraUsername,
      cassandraPasswordSecretArn: fullOptions.endpoints.cassandraPasswordSecretArn,
      // The schema Job makes the schema; the detectors wait for it.
      createSchema: false,
    });
    // The app's settings, and Node's own NODE_OPTIONS (its heap; the next test).
    const knownNames = new Set<string>([...Object.values(detectorEnvNames), ...Object.keys(nodeHeapEnv(0))]);
    expect(Object.keys(envOf(container)).filter((n) => !knownNames.has(n))).toEqual([]);
    // The grace period covers the preStop pause and the app's own drain budget.
    const pod = podSpecOf(deployment);
    const preStop = (container.lifecycle as { preStop: { sleep: { seconds: number } } }).preStop.sleep.seconds;
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(preStop + config.shutdownTimeoutSeconds);
  });

  it("the detector's Node heap is derived from the memory limit its pod gets, leaving room outside the heap", () => {
    const container = podSpecOf(find(objects, "Deployment", components.detector)).containers[0]!;
    const limit = (container.resources as { limits: { memory: string } }).limits.memory;
    const limitMiB = Number(/^(\d+)Mi$/.exec(limit)?.[1]);
    expect(limitMiB).toBe(plan.detector.memoryMiB);
    expect(envOf(container).NODE_OPTIONS).toBe(`--max-old-space-size=${detectorMaxOldSpaceMiB(limitMiB)}`);
    expect(detectorMaxOldSpaceMiB(limitMiB)).toBeLessThan(limitMiB);
  });

  it("the load generators send the plan's rate per pod over the plan's keys, each pod its own, open-ended", () => {
    const deployment = find(objects, "Deployment", components.loadGenerator);
    expect(deployment.spec?.replicas).toBe(plan.load.pods);
    const container = podSpecOf(deployment).containers[0]!;
    const config = parseLoadgenConfig({ env: envOf(container) });
    expect(config.rate).toBe(plan.load.ratePerPod);
    expect(config.rate * plan.load.pods).toBeGreaterThanOrEqual(plan.load.ratePerSecond);
    expect(config.keys).toBe(plan.load.keys);
    // Key prefix = pod name: two pods never mix their values into one key's history.
    expect(envFromPodOf(container)).toEqual({ [loadgenEnvNames.keyPrefix]: "metadata.name" });
    expect(config).toMatchObject({ kafkaAuth: "aws-iam", awsRegion: "us-east-1" });
    expect(config.duration).toBe(0);
    expect(config.partitions).toBe(plan.kafka.partitions);
    expect(container.resources).toEqual({
      requests: { cpu: cpuQuantity(plan.load.cpu), memory: memoryQuantity(plan.load.memoryMiB) },
      limits: { cpu: cpuQuantity(plan.load.cpu), memory: memoryQuantity(plan.load.memoryMiB) },
    });
  });

  it("one schema Job makes the topics, keyspace and table with the detector's settings and AWS role", () => {
    const [job, ...others] = schemaJobs(objects);
    expect(others).toEqual([]);
    expect(job!.metadata.name).toMatch(new RegExp(`^${components.schema}-[0-9a-f]{10}$`));
    expect(job!.spec).toMatchObject({
      backoffLimit: schemaJobSettings.backoffLimit,
      ttlSecondsAfterFinished: schemaJobSettings.ttlSecondsAfterFinished,
    });
    const pod = podSpecOf(job!);
    expect(pod.restartPolicy).toBe("Never");
    expect(pod.serviceAccountName).toBe(components.detector);
    expect(pod.automountServiceAccountToken).toBe(true);
    const container = pod.containers[0]!;
    expect(container.args).toEqual(["schema"]);
    const schema = parseDetectorConfig({ env: envOf(container) });
    const detector = parseDetectorConfig({ env: envOf(podSpecOf(find(objects, "Deployment", components.detector)).containers[0]!) });
    const shared = [
      "kafkaBrokers",
      "kafkaAuth",
      "awsRegion",
      "eventsTopic",
      "checksTopic",
      "deadLetterTopic",
      "partitions",
      "topicReplicationFactor",
      "cassandraContactPoints",
      "cassandraLocalDataCenter",
      "cassandraUsername",
      "cassandraPasswordSecretArn",
      "keyspace",
      "replicationFactor",
      "ttlSeconds",
      "compactionWindowMinutes",
    ] as const;
    for (const key of shared) expect(schema[key], key).toEqual(detector[key]);
    expect(schema.cassandraUsername).toBe("detector");
  });

  it("alerts and dashboard carry the plan's numbers", () => {
    const rules = find(objects, "PrometheusRule", "anomaly-pipeline");
    expect(JSON.stringify(rules)).toContain(`< ${plan.detector.pods}`);
    const configMap = find(objects, "ConfigMap", "grafana-dashboards") as K8sObject & { data: Record<string, string> };
    // The dashboard's dashed lines are the planned rate and pods; its header names the experiment and the sizes.
    const board = JSON.stringify(JSON.parse(Object.values(configMap.data)[0]!));
    const thresholds = [...board.matchAll(/"color":"red","value":(\d+(?:\.\d+)?)/g)].map((m) => Number(m[1]));
    expect(thresholds).toEqual(expect.arrayContaining([plan.load.ratePerSecond, plan.detector.pods]));
    expect(board).toContain(`${plan.experimentId}`);
    expect(board).toContain(`${plan.detector.pods} pods × ${plan.detector.concurrency} in flight`);
  });

  it('every workload meets the "restricted" Pod Security Standard, field by field', () => {
    const pods: [string, PodSpec][] = workloads(objects).map((d) => [d.metadata.name, podSpecOf(d)]);
    expect(pods.map(([name]) => name)).toEqual(expect.arrayContaining(jobs(objects).map((j) => j.metadata.name)));
    expect(jobs(objects)).toHaveLength(2);
    for (const [name, pod] of pods) {
      const podContext = pod.securityContext ?? {};
      for (const flag of ["hostNetwork", "hostPID", "hostIPC"] as const) expect(pod[flag] ?? false, `${name} ${flag}`).toBe(false);
      expect(pod.volumes?.every((v) => !("hostPath" in v)) ?? true, `${name} hostPath`).toBe(true);
      expect(podContext.sysctls, `${name} sysctls`).toBeUndefined();
      for (const c of [...pod.containers, ...(pod.initContainers ?? [])] as Container[]) {
        const where = `${name}/${c.name}`;
        const sc = c.securityContext ?? {};
        expect(sc.privileged ?? false, `${where} privileged`).toBe(false);
        expect(sc.allowPrivilegeEscalation, `${where} allowPrivilegeEscalation`).toBe(false);
        expect((sc.capabilities as { drop?: string[] } | undefined)?.drop, `${where} drop`).toEqual(["ALL"]);
        expect((sc.capabilities as { add?: string[] } | undefined)?.add ?? [], `${where} add`).toEqual([]);
        expect(sc.runAsNonRoot ?? podContext.runAsNonRoot, `${where} runAsNonRoot`).toBe(true);
        expect(sc.runAsUser ?? podContext.runAsUser, `${where} runAsUser`).not.toBe(0);
        expect(((sc.seccompProfile ?? podContext.seccompProfile) as { type?: string } | undefined)?.type, `${where} seccomp`).toBe(
          "RuntimeDefault",
        );
        expect(sc.readOnlyRootFilesystem, `${where} readOnlyRootFilesystem`).toBe(true);
        expect(c.ports?.some((p) => "hostPort" in p) ?? false, `${where} hostPort`).toBe(false);
        expect(sc.procMount ?? "Default", `${where} procMount`).toBe("Default");
      }
    }
    // The operator creates Prometheus' pods from the CR; its pod-level settings are ours to give.
    const prometheus = find(objects, "Prometheus", components.prometheus).spec as { securityContext: Record<string, unknown> };
    expect(prometheus.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    expect(prometheus.securityContext.runAsUser).not.toBe(0);
    const namespace = objects.find((o) => o.kind === "Namespace")!;
    expect(namespace.metadata.labels?.["pod-security.kubernetes.io/enforce"]).toBe("restricted");
  });

  it("each ServiceMonitor selects an existing Service by its labels and port name, which reaches a container port", () => {
    const monitors = objects.filter((o) => o.kind === "ServiceMonitor");
    expect(monitors.map((m) => m.metadata.name).sort()).toEqual(
      [components.detector, components.loadGenerator, components.jaeger, components.prometheusOperator].sort(),
    );
    const prometheus = find(objects, "Prometheus", components.prometheus).spec as {
      serviceMonitorSelector: { matchLabels: Record<string, string> };
    };
    for (const monitor of monitors) {
      const spec = monitor.spec as { selector: { matchLabels: Record<string, string> }; endpoints: { port: string }[] };
      expect(matches(prometheus.serviceMonitorSelector.matchLabels, monitor.metadata.labels), monitor.metadata.name).toBe(true);
      const services = objects.filter(
        (o) =>
          o.kind === "Service" &&
          o.metadata.namespace === monitor.metadata.namespace &&
          matches(spec.selector.matchLabels, o.metadata.labels),
      );
      expect(services.length, `${monitor.metadata.name} selects a Service`).toBe(1);
      const service = services[0]!;
      const servicePorts = (service.spec as { ports: { name: string; targetPort: string }[] }).ports;
      const servicePort = servicePorts.find((p) => p.name === spec.endpoints[0]!.port);
      expect(servicePort, `${monitor.metadata.name} port ${spec.endpoints[0]!.port}`).toBeDefined();
      const serviceSelector = (service.spec as { selector: Record<string, string> }).selector;
      const workload = deployments(objects).find((d) =>
        matches(serviceSelector, (d.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels),
      );
      expect(workload, `${service.metadata.name} selects pods`).toBeDefined();
      const containerPorts = podSpecOf(workload!).containers.flatMap((c) => c.ports ?? []);
      expect(
        containerPorts.map((p) => p.name),
        `${service.metadata.name} targetPort`,
      ).toContain(servicePort!.targetPort);
    }
  });

  it("scrape configs target the MSK open-monitoring ports and the Cassandra exporters", () => {
    const targets = objects
      .filter((o) => o.kind === "ScrapeConfig")
      .flatMap((o) => (o.spec as { staticConfigs: { targets: string[] }[] }).staticConfigs.flatMap((s) => s.targets));
    expect(targets).toContain("b-1.kafka.example.internal:11001");
    expect(targets).toContain("b-3.kafka.example.internal:11002");
    expect(targets).toContain("10.0.2.10:9500");
  });

  it("NetworkPolicies: deny by default, one allow policy per workload, scrapes and traces get through", () => {
    const policies = objects.filter((o) => o.kind === "NetworkPolicy");
    type Rule = { from?: Peer[]; to?: Peer[]; ports: { port: number; protocol: string }[] };
    type Peer = { podSelector?: { matchLabels: Record<string, string> }; ipBlock?: { cidr: string } };
    type Policy = { podSelector: { matchLabels?: Record<string, string> }; ingress?: Rule[]; egress?: Rule[]; policyTypes: string[] };
    const specOf = (o: K8sObject) => o.spec as Policy;
    const denyAll = policies.filter((p) => Object.keys(specOf(p).podSelector.matchLabels ?? {}).length === 0);
    expect(denyAll.map((p) => [specOf(p).ingress, specOf(p).egress, specOf(p).policyTypes])).toEqual([
      [undefined, undefined, ["Ingress", "Egress"]],
    ]);
    const podLabels = [
      ...workloads(objects).map((d) => (d.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels),
      (find(objects, "Prometheus", components.prometheus).spec as { podMetadata: { labels: Record<string, string> } }).podMetadata.labels,
    ];
    for (const labels of podLabels) {
      const selecting = policies.filter((p) => p !== denyAll[0] && matches(specOf(p).podSelector.matchLabels ?? {}, labels));
      expect(selecting.length, labels["app.kubernetes.io/name"]).toBe(1);
    }
    const policyOf = (component: string) => specOf(find(objects, "NetworkPolicy", component));
    const admits = (rules: Rule[] | undefined, side: "from" | "to", peer: string, port: number) =>
      (rules ?? []).some(
        (r) =>
          r.ports.some((p) => p.port === port && p.protocol === "TCP") &&
          (r[side] === undefined ||
            r[side].some((x) => x.podSelector !== undefined && matches(x.podSelector.matchLabels, selectorLabels(peer as never)))),
      );
    const flows: [string, string, number][] = [
      [components.prometheus, components.detector, appHttpPort],
      [components.prometheus, components.loadGenerator, appHttpPort],
      [components.prometheus, components.prometheusOperator, 8080],
      [components.prometheus, components.jaeger, 8888],
      [components.detector, components.jaeger, 4318],
      [components.loadGenerator, components.jaeger, 4318],
      [components.grafana, components.prometheus, 9090],
      [components.grafana, components.jaeger, 16686],
    ];
    for (const [client, server, port] of flows) {
      expect(admits(policyOf(client).egress, "to", server, port), `${client} → ${server}:${port} egress`).toBe(true);
      expect(admits(policyOf(server).ingress, "from", client, port), `${client} → ${server}:${port} ingress`).toBe(true);
    }
    // Nothing but Prometheus reaches the detector; the detector reaches the data plane only inside its CIDRs.
    expect(policyOf(components.detector).ingress).toEqual([
      { from: [{ podSelector: { matchLabels: selectorLabels(components.prometheus) } }], ports: [{ protocol: "TCP", port: appHttpPort }] },
    ]);
    const dataPlaneRules = (policyOf(components.detector).egress ?? []).filter((r) =>
      r.ports.some((p) => p.port === 9042 || p.port === 9098),
    );
    expect(dataPlaneRules.every((r) => r.to?.every((peer) => peer.ipBlock?.cidr === "10.0.0.0/16"))).toBe(true);
    // The schema Job: no ingress; Kafka and Cassandra only inside the data plane.
    expect(policyOf(components.schema).ingress).toBeUndefined();
    expect(policyOf(components.schema).policyTypes).toContain("Ingress");
    const schemaDataPlane = (policyOf(components.schema).egress ?? []).filter((r) =>
      r.ports.some((p) => p.port === 9042 || p.port === 9098),
    );
    expect(schemaDataPlane.map((r) => r.ports.map((p) => p.port)).flat()).toEqual(expect.arrayContaining([9042, 9098]));
    expect(schemaDataPlane.every((r) => r.to?.every((peer) => peer.ipBlock?.cidr === "10.0.0.0/16"))).toBe(true);
    // MSK IAM auth: credentials from the EKS Pod Identity agent.
    for (const component of [components.detector, components.loadGenerator, components.schema]) {
      expect(policyOf(component).egress).toContainEqual({
        to: [{ ipBlock: { cidr: "169.254.170.23/32" } }],
        ports: [{ protocol: "TCP", port: 80 }],
      });
    }
  });

  it("matches the snapshot", async () => {
    const text = manifests.map((m) => `# ${m.file}\n${m.yaml}`).join("");
    await expect(text).toMatchFileSnapshot(`./__snapshots__/${preset}.yaml`);
  });
});

describe("endpoints", () => {
  it("CDK tokens pass through unvalidated; concrete values are checked with the app's schema", () => {
    const plan = sizePlanFrom({ preset: "stage-3" });
    const token = "${Token[TOKEN.1234]}";
    const objects = synthesizeManifests(plan, { endpoints: { kafkaBrokers: token, cassandraContactPoints: token } }).flatMap(
      (m) => m.objects as K8sObject[],
    );
    const env = envOf(podSpecOf(find(objects, "Deployment", components.detector)).containers[0]!);
    expect(env[detectorEnvNames.kafkaBrokers]).toBe(token);
    expect(env[detectorEnvNames.cassandraContactPoints]).toBe(token);
    expect(objects.some((o) => o.kind === "ScrapeConfig")).toBe(false);
    const outsideAws = synthesizeManifests(plan, { endpoints: { ...standaloneEndpoints, awsApis: false } }).flatMap(
      (m) => m.objects as K8sObject[],
    );
    expect(JSON.stringify(find(outsideAws, "NetworkPolicy", components.detector))).not.toContain("169.254.170.23");
    // EKS Pod Identity hands out credentials against the ServiceAccount token; elsewhere the pods get none.
    expect(podSpecOf(find(objects, "Deployment", components.detector)).automountServiceAccountToken).toBe(true);
    expect(podSpecOf(find(outsideAws, "Deployment", components.detector)).automountServiceAccountToken).toBe(false);
    expect(() => synthesizeManifests(plan, { endpoints: { kafkaBrokers: "no-port", cassandraContactPoints: "c:9042" } })).toThrow(
      /kafkaBrokers/,
    );
  });

  it("the Cassandra password's secret ARN may be a token; auth settings are checked with the app's schema", () => {
    const plan = sizePlanFrom({ preset: "stage-3" });
    const token = "${Token[TOKEN.77]}";
    const objects = synthesizeManifests(plan, {
      endpoints: {
        ...standaloneEndpoints,
        kafkaAuth: "aws-iam",
        awsRegion: "eu-west-1",
        cassandraUsername: "detector",
        cassandraPasswordSecretArn: token,
      },
    }).flatMap((m) => m.objects as K8sObject[]);
    for (const pod of [podSpecOf(find(objects, "Deployment", components.detector)), podSpecOf(schemaJobs(objects)[0]!)]) {
      const env = envOf(pod.containers[0]!);
      expect(env[detectorEnvNames.cassandraPasswordSecretArn]).toBe(token);
      expect(env[detectorEnvNames.cassandraUsername]).toBe("detector");
      expect(env[detectorEnvNames.kafkaAuth]).toBe("aws-iam");
      expect(env[detectorEnvNames.awsRegion]).toBe("eu-west-1");
    }
    expect(() => synthesizeManifests(plan, { endpoints: { ...standaloneEndpoints, awsRegion: "Mars" } })).toThrow(/awsRegion/);
    expect(() =>
      synthesizeManifests(plan, { endpoints: { ...standaloneEndpoints, cassandraPasswordSecretArn: "arn:aws:s3:::bucket" } }),
    ).toThrow(/cassandraPasswordSecretArn/);
    // Without auth endpoints the pods get none of these settings (the app's defaults: no auth, as locally).
    const plain = synthesizeManifests(plan, { endpoints: standaloneEndpoints }).flatMap((m) => m.objects as K8sObject[]);
    const env = envOf(podSpecOf(find(plain, "Deployment", components.detector)).containers[0]!);
    for (const key of ["kafkaAuth", "awsRegion", "cassandraUsername", "cassandraPasswordSecretArn"] as const) {
      expect(env[detectorEnvNames[key]], key).toBeUndefined();
    }
  });

  it("the schema Job's name changes with its pod template and the image revision, and only then", () => {
    const plan = sizePlanFrom({ preset: "stage-3" });
    const jobName = (options: Parameters<typeof synthesizeManifests>[1]) =>
      schemaJobs(synthesizeManifests(plan, options).flatMap((m) => m.objects as K8sObject[]))[0]!.metadata.name;
    const token = "${Token[TOKEN.9]}";
    const base = { endpoints: standaloneEndpoints, app: { image: token, revision: "a" } };
    expect(jobName(base)).toBe(jobName(base));
    expect(jobName({ ...base, app: { image: token, revision: "b" } })).not.toBe(jobName(base));
    expect(jobName({ ...base, app: { image: "other:1", revision: "a" } })).not.toBe(jobName(base));
    expect(jobName({ ...base, endpoints: { ...standaloneEndpoints, kafkaBrokers: "k2:9092" } })).not.toBe(jobName(base));
  });

  it("alert rules exist for lag, latency, dead letters, errors and detector down", () => {
    expect(alertRules(sizePlanFrom({ preset: "stage-3" })).map((r) => r.alert)).toEqual(
      expect.arrayContaining(["ConsumerLagGrowing", "EndToEndLatencyHigh", "DeadLetterRateHigh", "ErrorRateHigh", "DetectorDown"]),
    );
  });
});

describe("synth:k8s", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    process.exitCode = undefined;
    vi.restoreAllMocks();
  });
  const out = () => {
    const d = mkdtempSync(join(tmpdir(), "synth-k8s-"));
    dirs.push(d);
    return d;
  };

  it("writes one file per chart, in apply order, equal to the charts", () => {
    const dir = out();
    vi.spyOn(console, "log").mockImplementation(() => undefined);
    main(["--preset", "stage-6", "--out", dir]);
    const files = readdirSync(join(dir, "stage-6"));
    expect(files).toEqual([
      "01-namespace.yaml",
      "02-prometheus-operator.yaml",
      "03-monitoring.yaml",
      "04-jaeger.yaml",
      "05-grafana.yaml",
      "06-pipeline.yaml",
    ]);
    // Each file is YAML of whole Kubernetes objects: the namespace first, the pipeline's workloads last.
    const objectsIn = (file: string) =>
      parseAllDocuments(readFileSync(join(dir, "stage-6", file), "utf8")).map((d) => d.toJS() as K8sObject);
    for (const file of files)
      for (const o of objectsIn(file))
        expect(o.kind !== undefined && o.metadata.name !== undefined, `${file}: ${JSON.stringify(o).slice(0, 80)}`).toBe(true);
    expect(objectsIn("01-namespace.yaml")[0]?.kind).toBe("Namespace");
    const pipeline = objectsIn("06-pipeline.yaml").map((o) => `${o.kind}/${o.metadata.name}`);
    expect(pipeline).toEqual(expect.arrayContaining([`Deployment/${components.detector}`, `Deployment/${components.loadGenerator}`]));
  });

  it("runs as a command (what npm run synth:k8s calls)", () => {
    const dir = out();
    const stdout = execFileSync("tsx", ["charts/synth.ts", "--preset", "stage-3", "--out", dir, "--no-aws-apis"], { encoding: "utf8" });
    expect(stdout).toMatch(/stage-3: 6 manifests, 48 objects/);
    expect(readFileSync(join(dir, "stage-3", "06-pipeline.yaml"), "utf8")).not.toContain("169.254.170.23");
  });

  it("names a custom size by its numbers and stops with the size model's message on a bad value", () => {
    const dir = out();
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    main(["--cassandraNodes", "9", "--out", dir]);
    expect(readdirSync(dir)).toEqual([expect.stringMatching(/^cassandra-9-kafka-3-workers-\d+$/)]);
    expect(log).toHaveBeenCalledOnce();

    const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
    main(["--cassandraNodes", "2", "--out", dir]);
    let expected = "";
    try {
      sizePlanFrom({ cassandraNodes: "2" });
    } catch (e) {
      expected = (e as Error).message;
    }
    expect(expected).not.toBe("");
    expect(error).toHaveBeenCalledWith(`error: ${expected}`);
    expect(process.exitCode).toBe(usageErrorExitCode);
  });

  /** Runs main with console output captured; returns the exit status, the error text and what was written. */
  function synth(args: string[]) {
    const dir = out();
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
    process.exitCode = undefined;
    main([...args, "--out", dir]);
    const result = {
      exitCode: process.exitCode,
      errors: error.mock.calls.map((c) => String(c[0])).join("\n"),
      written: readdirSync(dir),
      dir,
    };
    log.mockRestore();
    error.mockRestore();
    process.exitCode = undefined;
    return result;
  }

  it("runs the app's own checks across settings on each pod's env: a bad combination exits 2 naming the flags, writing nothing", () => {
    const region = synth(["--preset", "stage-3", "--kafka-auth", "aws-iam"]);
    expect(region.exitCode).toBe(usageErrorExitCode);
    expect(region.errors).toMatch(/would refuse these settings at start: setting awsRegion .*kafkaAuth is aws-iam/);
    expect(region.errors).toContain("--kafka-auth aws-iam given");
    expect(region.errors).toContain("--aws-region not given");
    expect(region.written).toEqual([]);
    const password = synth(["--preset", "stage-3", "--cassandra-username", "detector"]);
    expect(password.exitCode).toBe(usageErrorExitCode);
    expect(password.errors).toContain("--cassandra-username detector given");
    expect(password.errors).toContain("--cassandra-password-secret-arn not given");
    // Every preset is checked before the first is written.
    expect(synth(["--kafka-auth", "aws-iam"]).written).toEqual([]);
    expect(synth(["--preset", "stage-3", "--kafka-auth", "aws-iam", "--aws-region", "us-east-1"])).toMatchObject({
      exitCode: undefined,
      written: ["stage-3"],
    });
  });

  it("refuses an unknown flag by name with a suggestion (exit 2)", () => {
    const typo = synth(["--cassandra-node", "9"]);
    expect(typo.exitCode).toBe(usageErrorExitCode);
    expect(typo.errors).toContain("unknown option '--cassandra-node'");
    expect(typo.errors).toContain("Did you mean --cassandraNodes?");
    expect(typo.written).toEqual([]);
  });

  it("parses numbers strictly: no hex, exponent, sign or blanks", () => {
    for (const bad of ["0x1", "abc", "", " 0.5", "1e-3", "-0", "2"]) {
      const r = synth(["--preset", "stage-3", "--tracing-sample-ratio", bad]);
      expect(r.exitCode, bad).toBe(usageErrorExitCode);
      expect(r.errors, bad).toContain(`--tracing-sample-ratio: value ${JSON.stringify(bad)} is not allowed`);
    }
    expect(synth(["--preset", "stage-3", "--tracing-sample-ratio", ".5"]).exitCode).toBeUndefined();
    // Size flags go to the size model, which reads decimal digits only.
    for (const bad of ["0x10", " 9", "1e1"]) {
      const r = synth(["--cassandraNodes", bad]);
      expect(r.exitCode, bad).toBe(usageErrorExitCode);
      expect(r.errors, bad).toContain(`cassandraNodes = ${JSON.stringify(bad)}`);
      expect(r.written, bad).toEqual([]);
    }
  });

  it("takes image digests, an image pinned by digest and anonymous Grafana viewers; refuses a bad digest naming the flag", () => {
    const sha = `sha256:${"ab".repeat(32)}`;
    const r = synth([
      "--preset",
      "stage-3",
      "--image-digests",
      `grafana=${sha},jaeger=${sha}`,
      "--image",
      `registry.example/kit@${sha}`,
      "--grafana-anonymous-viewers",
    ]);
    expect(r.exitCode).toBeUndefined();
    const grafana = readFileSync(join(r.dir, "stage-3", "05-grafana.yaml"), "utf8");
    expect(grafana).toContain(`image: grafana/grafana:12.4.10@${sha}`);
    expect(grafana).toContain(`image: registry.example/kit@${sha}`);
    expect(grafana).toMatch(/GF_AUTH_ANONYMOUS_ENABLED\n\s+value: "true"/);
    const bad = synth(["--preset", "stage-3", "--image-digests", "grafana=sha256:12"]);
    expect(bad.exitCode).toBe(usageErrorExitCode);
    expect(bad.errors).toContain('imageDigests.grafana: value "sha256:12" is not allowed');
    expect(bad.errors).toContain("--image-digests grafana=sha256:12 given");
  });

  it("writes the detector's ScaledObject with --detectorAutoscaling keda, and asks for the role KEDA assumes with MSK IAM", () => {
    const iam = ["--kafka-auth", "aws-iam", "--aws-region", "us-east-1", "--cassandraNodes", "3", "--detectorAutoscaling", "keda"];
    const missing = synth(iam);
    expect(missing.exitCode).toBe(usageErrorExitCode);
    expect(missing.errors).toContain("autoscaling.roleArn: required with kafkaAuth aws-iam");
    expect(missing.errors).toContain("--keda-role-arn not given");
    expect(missing.written).toEqual([]);
    const roleArn = "arn:aws:iam::111122223333:role/detector";
    const r = synth([...iam, "--keda-role-arn", roleArn]);
    expect(r.exitCode).toBeUndefined();
    const yaml = (readdirSync(r.dir, { recursive: true }) as string[]).filter((f) => f.endsWith(".yaml"));
    const pipeline = yaml.map((f) => readFileSync(join(r.dir, f), "utf8")).join("\n");
    expect(pipeline).toContain("kind: ScaledObject");
    expect(pipeline).toContain(`roleArn: ${roleArn}`);
  });
});
