/**
 * Preflight's image check (no AWS call): names every image the kit would run by its tag alone because the
 * image lock holds no digest for it. A warning, not a failure: tags work, they can just move under a deploy.
 */
import { imageLockFile, readImageLock, type ImageLock } from "../../cdk/image-lock.ts";
import { kitImages, unpinnedImages, type KitImage } from "../images/image-references.ts";
import type { CheckResult } from "./check-result.ts";

export const imagePinsCheck = "image pins";

export function checkImagePins(lock: ImageLock = readImageLock(), images: readonly KitImage[] = kitImages()): CheckResult {
  const unpinned = unpinnedImages(images, lock);
  if (unpinned.length === 0)
    return { check: imagePinsCheck, status: "pass", detail: `all ${images.length} images pinned by digest (${imageLockFile})` };
  return {
    check: imagePinsCheck,
    status: "warn",
    detail: `${unpinned.length} of ${images.length} images pinned only by tag: ${unpinned.map((i) => `${i.label} (${i.use})`).join(", ")}`,
    fix: `on a machine that reaches the registries (Docker with buildx, or crane): npm run pin-images, then commit ${imageLockFile}; the operator's default Prometheus takes --image-digests prometheus=sha256:...`,
  };
}
