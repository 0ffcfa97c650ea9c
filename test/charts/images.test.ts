/**
 * Every image the manifests run is pinned by digest, or is listed in charts/versions.ts as pinned by tag with a
 * reason (no digest was ever read from a registry here, and none is invented). Digests from the image lock
 * (images.lock.json, read by default), given through `imageDigests`, and an `image@sha256:...` app image reach
 * every reference; malformed ones are refused by name.
 */
import { describe, expect, it } from "vitest";
import { sizePlanFrom } from "../../cdk/size/size-plan.ts";
import type { ChartOptions } from "../../charts/index.ts";
import { components } from "../../charts/names.ts";
import { synthesizeManifests } from "../../charts/synth.ts";
import { readImageLock } from "../../cdk/image-lock.ts";
import {
  appImageTagPinnedBecause,
  isDigestPinned,
  lockReference,
  tagPinnedImages,
  thirdPartyImageNames,
  type ImageDigests,
} from "../../charts/versions.ts";
import { find, fullOptions, podSpecOf, presetNames, presetManifests, type Container, type K8sObject } from "./fixtures.ts";

/** Every image reference in the objects: containers of Deployments and Jobs, images passed as arguments, the Prometheus CR's. */
function imagesIn(objects: readonly K8sObject[]): string[] {
  const refs: string[] = [];
  for (const o of objects.filter((x) => x.kind === "Deployment" || x.kind === "Job")) {
    const pod = podSpecOf(o);
    for (const c of [...pod.containers, ...(pod.initContainers ?? [])] as Container[]) {
      refs.push(c.image as string);
      for (const arg of (c.args as string[] | undefined) ?? []) {
        const m = /^--[a-z-]+=(.+[:@].+)$/.exec(arg);
        if (m && /(image|reloader)/.test(arg)) refs.push(m[1]!);
      }
    }
  }
  const prometheus = find(objects, "Prometheus", components.prometheus).spec as { image?: string };
  refs.push(prometheus.image ?? "quay.io/prometheus/prometheus (the operator's default)");
  return [...new Set(refs)];
}

const digest = (seed: string) => `sha256:${seed.repeat(64).slice(0, 64)}`;

describe.each(presetNames)("preset %s", (preset) => {
  it("runs only images pinned by digest or listed as tag-pinned with a reason", () => {
    const listed = tagPinnedImages();
    const images = imagesIn(presetManifests(preset).objects);
    expect(images.length).toBeGreaterThanOrEqual(6);
    const unexplained = images.filter((ref) => {
      if (isDigestPinned(ref)) return false;
      // The kit's own image is the caller's (the CDK's content-hash asset tag; the fixture stands in for it).
      if (ref === fullOptions.app?.image) return appImageTagPinnedBecause.length === 0;
      return (listed[ref] ?? "").length === 0;
    });
    expect(unexplained).toEqual([]);
  });
});

describe("image digests", () => {
  const plan = sizePlanFrom({ preset: "stage-3" });
  const objectsOf = (options: ChartOptions) => synthesizeManifests(plan, options).flatMap((m) => m.objects as K8sObject[]);

  it("given for every image, every reference in the manifests is pinned by digest", () => {
    const imageDigests = Object.fromEntries(thirdPartyImageNames.map((name, i) => [name, digest(String(i))])) as ImageDigests;
    const app = { ...fullOptions.app, image: `registry.example/anomaly-kit@${digest("a")}` };
    const images = imagesIn(objectsOf({ ...fullOptions, app, imageDigests }));
    expect(images.filter((ref) => !isDigestPinned(ref))).toEqual([]);
    expect(images).toContain(`grafana/grafana:12.4.10@${imageDigests.grafana!}`);
    expect(images).toContain(`quay.io/prometheus/prometheus@${imageDigests.prometheus!}`);
    expect(tagPinnedImages(imageDigests)).toEqual({});
  });

  it("refuses a malformed digest, an unknown image name and a malformed app image, naming the field", () => {
    expect(() => objectsOf({ ...fullOptions, imageDigests: { grafana: "sha256:abc" } })).toThrow(
      'imageDigests.grafana: value "sha256:abc" is not allowed; allowed: sha256:<64 lower-case hex digits>',
    );
    expect(() => objectsOf({ ...fullOptions, imageDigests: { grafanna: digest("b") } as ImageDigests })).toThrow(
      /imageDigests: image "grafanna" is not one of the kit's; allowed: prometheusOperator, .*grafana/,
    );
    for (const image of ["anomaly-kit@sha256:xyz", "Anomaly-Kit:1", "anomaly-kit:", `anomaly-kit@${digest("A")}`]) {
      expect(() => objectsOf({ ...fullOptions, app: { image } }), image).toThrow(
        `app.image: value ${JSON.stringify(image)} is not allowed`,
      );
    }
    for (const image of [
      "anomaly-kit",
      "anomaly-kit:1.2",
      "123456789012.dkr.ecr.us-east-1.amazonaws.com/repo:abc",
      `localhost:5000/a/b:t@${digest("c")}`,
    ]) {
      expect(() => objectsOf({ ...fullOptions, app: { image } }), image).not.toThrow();
    }
  });
});

describe("image lock", () => {
  const plan = sizePlanFrom({ preset: "stage-3" });
  const objectsOf = (options: ChartOptions) => synthesizeManifests(plan, options).flatMap((m) => m.objects as K8sObject[]);
  const tagged = thirdPartyImageNames.filter((name) => lockReference(name) !== undefined);

  it("pins every image the lock holds a digest for; an image given in imageDigests wins over the lock", () => {
    const imageLock = { images: Object.fromEntries(tagged.map((name, i) => [lockReference(name)!, digest(String(i))])) };
    const images = imagesIn(objectsOf({ ...fullOptions, imageLock }));
    tagged.forEach((name, i) => expect(images).toContain(`${lockReference(name)!}@${digest(String(i))}`));
    // No tag of ours names the operator's default Prometheus: the lock cannot pin it.
    expect(images).toContain("quay.io/prometheus/prometheus (the operator's default)");
    const given = imagesIn(objectsOf({ ...fullOptions, imageLock, imageDigests: { grafana: digest("f") } }));
    expect(given).toContain(`${lockReference("grafana")!}@${digest("f")}`);
    expect(given.filter((ref) => ref.startsWith("grafana/"))).toHaveLength(1);
  });

  it("reads images.lock.json by default: a locked image by its digest, the others by tag", () => {
    const lock = readImageLock();
    const images = imagesIn(objectsOf(fullOptions));
    for (const name of tagged) {
      const reference = lockReference(name)!;
      const locked = lock.images[reference];
      expect(images, name).toContain(locked === null || locked === undefined ? reference : `${reference}@${locked}`);
    }
  });

  it("ignores a digest locked for another tag", () => {
    const imageLock = { images: { "grafana/grafana:11.0.0": digest("e") } };
    expect(imagesIn(objectsOf({ ...fullOptions, imageLock }))).toContain(lockReference("grafana")!);
  });
});
