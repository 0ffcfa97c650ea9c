/**
 * Every image the kit runs that a digest could pin, and whether the image lock pins it: the charts'
 * third-party images and the app image's base (the Dockerfile's). The kit's own app image is not here: the
 * CDK app tags it with the hash of its content.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dockerfileBase, dockerfileLiteralBases, lockedDigest, type ImageLock } from "../../cdk/image-lock.ts";
import { lockReference, thirdPartyImageNames, thirdPartyImages } from "../../charts/versions.ts";

export const dockerfilePath = fileURLToPath(new URL("../../Dockerfile", import.meta.url));

export interface KitImage {
  /** Where it is used: "charts: grafana", "Dockerfile base (NODE_IMAGE)". */
  readonly use: string;
  /** The reference by tag the lock keys on; `undefined` when no tag of ours names it. */
  readonly reference: string | undefined;
  /** How it is named when it has no such reference. */
  readonly label: string;
}

/** The images, from charts/versions.ts and the Dockerfile's text. */
export function kitImages(dockerfileText = readFileSync(dockerfilePath, "utf8")): KitImage[] {
  const charts = thirdPartyImageNames.map((name): KitImage => {
    const reference = lockReference(name);
    return {
      use: `charts: ${name}`,
      reference,
      label: reference ?? `${thirdPartyImages[name].repository} (the Prometheus Operator's default version)`,
    };
  });
  const base = dockerfileBase(dockerfileText);
  const bases =
    base === undefined
      ? dockerfileLiteralBases(dockerfileText).map((r): KitImage => ({
          use: "Dockerfile base (a literal FROM, not an ARG)",
          reference: undefined,
          label: r,
        }))
      : [{ use: `Dockerfile base (${base.arg})`, reference: base.reference, label: base.reference }];
  return [...charts, ...bases];
}

/** The images the lock does not pin: without a reference of ours, or without a digest for it. */
export const unpinnedImages = (images: readonly KitImage[], lock: ImageLock): KitImage[] =>
  images.filter((i) => i.reference === undefined || lockedDigest(lock, i.reference) === undefined);
