/**
 * Every version of third-party software the kit runs, in one table: the CDK stacks, the charts, the local stack
 * and the rehearsal all import from here, and test/cdk/versions.test.ts fails where one of them, or a file that
 * cannot import TypeScript (package.json, the Dockerfile, images.lock.json), says otherwise. Upgrading one is an
 * edit here plus what its comment names. Nothing but constants: app/, charts/ and scripts/ may all import it.
 */

/**
 * Kubernetes release of the control plane. The EKS cluster runs its minor (EKS manages the patch); the
 * rehearsal builds this exact release, whose patch was the newest 1.36 release the Go module proxy served when
 * pinned. Upgrading the minor also means the matching `@aws-cdk/lambda-layer-kubectl-v<minor>` package (the
 * CDK's kubectl must be the cluster's minor) and a look at KEDA's supported range below.
 */
export const kubernetesRelease = "1.36.3";

/** `major.minor` of a `major.minor.patch` version. */
export const minorOf = (version: string): string => version.split(".").slice(0, 2).join(".");

/** The cluster's Kubernetes minor, e.g. "1.36": the EKS cluster's version and what manifests are validated for. */
export const kubernetesMinor = minorOf(kubernetesRelease);

/**
 * The Kubernetes API level the charts' types come from (the `cdk8s-plus-<minor>` package): cdk8s-plus is
 * released per Kubernetes minor and trails Kubernetes, so it can be older than the cluster. Objects written
 * against it stay valid on later minors (Kubernetes removes no GA API within a major version). The namespaces' Pod
 * Security labels pin the restricted profile at this level, the one the pods were written to, so that an
 * upgrade of the cluster does not change what is admitted.
 */
export const cdk8sPlusApiLevel = "1.34";

/** The Prometheus Operator the charts deploy and the rehearsal builds; its images carry `v<this>` as their tag. */
export const prometheusOperatorVersion = "0.93.0";

/**
 * The prometheus-community `prometheus-operator-crds` Helm chart the EKS stack installs the operator's CRDs
 * from: release 31.0.0 carries the CRDs of operator v0.93.0 (the chart's appVersion), so the two move together.
 */
export const prometheusOperatorCrdsChartVersion = "31.0.0";

/**
 * KEDA: the EKS stack's Helm chart (kedacore/charts `keda`, chart version = app version) and the CRDs the charts'
 * ScaledObject and TriggerAuthentication are typed from (`charts/crds/import-crds.ts --source keda` reruns the
 * import). v2.20 is tested on Kubernetes 1.33-1.35; the cluster runs 1.36, outside that window, because no
 * later KEDA release existed when this was pinned.
 */
export const kedaVersion = "2.20.0";

/**
 * Kafka 3.9 is the newest line that both Amazon MSK offers and kafkajs 2.2.4 speaks to (Kafka 4.0 removed the
 * old protocol versions kafkajs uses). The same release runs locally (Maven Central artifacts).
 */
export const kafkaVersion = "3.9.1";
/** MSK names versions by minor line, with patch releases managed by AWS. */
export const mskKafkaVersion = `${minorOf(kafkaVersion)}.x`;

/** Cassandra 5.0 is the first line that runs on Java 17. The same release runs locally and on the cloud nodes. */
export const cassandraVersion = "5.0.9";
/**
 * SHA-512 of Apache's binary release of cassandraVersion (apache-cassandra-<version>-bin.tar.gz, the value of
 * the release's .sha512 file). The cloud nodes verify their download against this, whichever mirror served it.
 */
export const cassandraSha512 =
  "beaf3df6342ef1a0ccc83fa80214f250b32c35cfbb1af591b00e3fd539eef0915bc3b89f0e7ae73f6d50cbb03f6075c4e4cf32d3c46ff9c33f745542fcc925df";
/** Lowest Java feature release both servers run on. */
export const minimumJavaVersion = 17;

/** Grafana's image tag in the monitoring charts. */
export const grafanaVersion = "12.4.10";

/** Jaeger v2: the OpenTelemetry-collector-based distribution (v1 reached end of life on 31 Dec 2025). */
export const jaegerVersion = "2.20.0";

/**
 * etcd of the rehearsal's control plane. 3.6: 3.4 (Debian's) lacks the watch progress notifications the 1.36
 * API server's watch cache asks for, so pod status lags by tens of seconds and rollouts crawl.
 */
export const etcdVersion = "3.6.16";

/** kwok simulates the rehearsal's kubelets: nodes heartbeat and pods go Running without any container. */
export const kwokVersion = "0.8.0";
