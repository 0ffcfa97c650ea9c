/**
 * The images of the third-party software the charts deploy, and where their CRDs come from; the versions are
 * cdk/versions.ts'. Upgrading the Prometheus Operator means: its version there, new CRDs on the cluster,
 * `charts/crds/import-crds.ts` rerun.
 */
import { digestPattern, lockedDigest, readImageLock, type ImageLock } from "../cdk/image-lock.ts";
import { grafanaVersion, jaegerVersion, kedaVersion, prometheusOperatorVersion } from "../cdk/versions.ts";

/**
 * The third-party images, by repository and release tag. Their digests are in images.lock.json (cdk/image-lock.ts),
 * which `npm run pin-images` writes on a machine that reaches the registries and the charts read by default
 * (lockedImageDigests); `imageDigests` (`--image-digests name=sha256:...`) overrides it per image. An image
 * without a digest there runs by its release tag, for the reason given, and preflight names it. A digest keeps
 * the image's tag in the reference (`repo:tag@sha256:...`) for the reader; the runtime pulls by the digest.
 */
export const thirdPartyImages = {
  prometheusOperator: {
    repository: "quay.io/prometheus-operator/prometheus-operator",
    tag: `v${prometheusOperatorVersion}`,
    tagPinnedBecause: "upstream release tag of the operator whose CRDs and RBAC the charts follow; no digest in the image lock yet",
  },
  prometheusConfigReloader: {
    repository: "quay.io/prometheus-operator/prometheus-config-reloader",
    tag: `v${prometheusOperatorVersion}`,
    tagPinnedBecause: "released together with the operator, same tag; no digest in the image lock yet",
  },
  /**
   * Prometheus itself: the operator picks the image of its own default Prometheus version when the CR names none,
   * so without a digest the charts leave `spec.image` unset (a tag of ours could disagree with the operator's
   * configuration generator). A digest must be of that default version.
   */
  prometheus: {
    repository: "quay.io/prometheus/prometheus",
    tag: undefined,
    tagPinnedBecause: `the Prometheus Operator v${prometheusOperatorVersion} runs its default Prometheus version; a digest must be given for that version (--image-digests)`,
  },
  grafana: {
    repository: "grafana/grafana",
    tag: grafanaVersion,
    tagPinnedBecause: "upstream release tag; no digest in the image lock yet",
  },
  jaeger: {
    repository: "jaegertracing/jaeger",
    tag: jaegerVersion,
    tagPinnedBecause: "upstream release tag; no digest in the image lock yet",
  },
} as const satisfies Record<string, { repository: string; tag: string | undefined; tagPinnedBecause: string }>;

export type ThirdPartyImage = keyof typeof thirdPartyImages;
export const thirdPartyImageNames = Object.keys(thirdPartyImages) as ThirdPartyImage[];

/** Digests by image name, e.g. `{ grafana: "sha256:<64 hex digits>" }`. */
export type ImageDigests = Partial<Readonly<Record<ThirdPartyImage, string>>>;

/**
 * The kit's own image (detector, load generator, schema and Grafana-secret Jobs) is the caller's: the CDK app
 * builds it as an image asset whose tag is the hash of its content, so that tag names one image. Standalone,
 * pass `--image repo@sha256:...` to pin it.
 */
export const appImageTagPinnedBecause = "the caller's image: the CDK app's image asset is tagged with the hash of its content";

export { digestPattern };

/** The reference by tag an image is locked under (`repository:tag`); `undefined` for the operator's default Prometheus. */
export function lockReference(name: ThirdPartyImage): string | undefined {
  const { repository, tag } = thirdPartyImages[name];
  return tag === undefined ? undefined : `${repository}:${tag}`;
}

/** The digests the image lock holds for the third-party images at their current tags. */
export function lockedImageDigests(lock: ImageLock = readImageLock()): ImageDigests {
  const out: Partial<Record<ThirdPartyImage, string>> = {};
  for (const name of thirdPartyImageNames) {
    const reference = lockReference(name);
    const digest = reference === undefined ? undefined : lockedDigest(lock, reference);
    if (digest !== undefined) out[name] = digest;
  }
  return out;
}

const component = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const registry = "(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]{1,5})?/)?";
/** `[registry/]path[:tag][@sha256:<64 hex>]`, the container image reference grammar (lower-case path). */
export const imageReferencePattern = new RegExp(
  `^${registry}${component}(?:/${component})*(?::[\\w][\\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$`,
);

/** Throws naming the field when `value` is not an image reference (a tag, a digest, or both). */
export function checkImageReference(field: string, value: string): void {
  if (!imageReferencePattern.test(value)) {
    throw new Error(
      `${field}: value ${JSON.stringify(value)} is not allowed; allowed: an image reference [registry/]name[:tag][@sha256:<64 lower-case hex digits>]`,
    );
  }
}

/** True for a reference pinned by digest. */
export const isDigestPinned = (reference: string): boolean => /@sha256:[0-9a-f]{64}$/.test(reference);

/** References by image name; `undefined` only for an image without a tag of ours and without a digest (Prometheus). */
export type ResolvedImages = {
  readonly [K in ThirdPartyImage]: (typeof thirdPartyImages)[K]["tag"] extends string ? string : string | undefined;
};

/** Each third-party image's reference, with its digest when one is given; `undefined`: the operator's default. */
export function resolveImages(digests: ImageDigests = {}): ResolvedImages {
  for (const [name, digest] of Object.entries(digests)) {
    if (!(name in thirdPartyImages)) {
      throw new Error(`imageDigests: image ${JSON.stringify(name)} is not one of the kit's; allowed: ${thirdPartyImageNames.join(", ")}`);
    }
    if (digest !== undefined && !digestPattern.test(digest)) {
      throw new Error(`imageDigests.${name}: value ${JSON.stringify(digest)} is not allowed; allowed: sha256:<64 lower-case hex digits>`);
    }
  }
  const out = {} as Record<ThirdPartyImage, string | undefined>;
  for (const name of thirdPartyImageNames) {
    const { repository, tag } = thirdPartyImages[name];
    const digest = digests[name];
    out[name] =
      digest === undefined
        ? tag === undefined
          ? undefined
          : `${repository}:${tag}`
        : `${repository}${tag === undefined ? "" : `:${tag}`}@${digest}`;
  }
  return out as ResolvedImages;
}

/** The references the manifests use by tag alone when no digest is given, each with its reason. */
export function tagPinnedImages(digests: ImageDigests = {}): Record<string, string> {
  const resolved = resolveImages(digests);
  return Object.fromEntries(
    thirdPartyImageNames
      .filter((name) => digests[name] === undefined)
      .map((name) => [
        resolved[name] ?? `${thirdPartyImages[name].repository} (the operator's default)`,
        thirdPartyImages[name].tagPinnedBecause,
      ]),
  );
}

/** The Prometheus Operator custom resources the charts create; typed constructs and schemas exist for these only. */
export const crdKinds = [
  { plural: "prometheuses", kind: "Prometheus" },
  { plural: "servicemonitors", kind: "ServiceMonitor" },
  { plural: "prometheusrules", kind: "PrometheusRule" },
  { plural: "scrapeconfigs", kind: "ScrapeConfig" },
] as const;

/** The KEDA custom resources the charts create (charts/keda-scaled-object.ts). */
export const kedaCrdKinds = [
  { plural: "scaledobjects", kind: "ScaledObject" },
  { plural: "triggerauthentications", kind: "TriggerAuthentication" },
] as const;

/**
 * Where each set of committed CRD imports and schemas comes from: upstream CRD files `<filePrefix><plural>.yaml`,
 * written as `charts/imports/<outputPrefix><plural>.ts` and `charts/crds/schemas/<outputPrefix><plural>.json`.
 */
export const crdSources = {
  "prometheus-operator": {
    name: "Prometheus Operator",
    version: prometheusOperatorVersion,
    filePrefix: "monitoring.coreos.com_",
    outputPrefix: "",
    kinds: crdKinds,
  },
  keda: { name: "KEDA", version: kedaVersion, filePrefix: "keda.sh_", outputPrefix: "keda-", kinds: kedaCrdKinds },
} as const;

export type CrdSourceName = keyof typeof crdSources;
