/**
 * The Pod Security Standard "restricted" settings every workload of the kit uses (the namespace enforces the
 * profile, so a pod without them would be refused): non-root, no privilege escalation, every capability
 * dropped, the runtime's default seccomp profile, a read-only root filesystem. Writable paths are emptyDirs.
 */
import { k8s } from "cdk8s-plus-34";

/** Pod-level settings; `uid` is the image's own non-root user, so files in the image stay readable. */
export const restrictedPodSecurityContext = (uid: number): k8s.PodSecurityContext => ({
  runAsNonRoot: true,
  runAsUser: uid,
  runAsGroup: uid,
  fsGroup: uid,
  seccompProfile: { type: "RuntimeDefault" },
});

/** Container-level settings (repeated per container: the standard checks them there). */
export const restrictedContainerSecurityContext = (): k8s.SecurityContext => ({
  runAsNonRoot: true,
  allowPrivilegeEscalation: false,
  privileged: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
});

/** A bounded scratch directory (the root filesystem is read-only). */
export const scratchVolume = (name: string, sizeLimit: string): k8s.Volume => ({
  name,
  emptyDir: { sizeLimit: k8s.Quantity.fromString(sizeLimit) },
});

/**
 * CPU cores in the form the API server writes back (its canonical quantity): whole cores as "2", the rest in
 * millicores ("500m", "1500m"). A number (`cpu: 2`) or a non-canonical string ("0.5") would differ from the live
 * object on every `kubectl apply`, which then reports "configured" for a manifest that did not change.
 */
export function cpuQuantity(cores: number): string {
  const milli = Math.round(cores * 1000);
  if (!Number.isFinite(cores) || milli <= 0 || Math.abs(cores * 1000 - milli) > 1e-6) {
    throw new Error(`cpu: value ${cores} is not allowed; allowed: a positive number of cores in steps of 0.001`);
  }
  if (milli % 1_000_000 === 0) return `${milli / 1_000_000}k`;
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/** Memory in MiB as the API server writes it back: the largest binary suffix that is exact ("512Mi", "2Gi"). */
export function memoryQuantity(mebibytes: number): string {
  if (!Number.isInteger(mebibytes) || mebibytes <= 0) {
    throw new Error(`memoryMiB: value ${mebibytes} is not allowed; allowed: a positive integer`);
  }
  const suffixes = ["Mi", "Gi", "Ti", "Pi", "Ei"];
  let value = mebibytes;
  let i = 0;
  while (value % 1024 === 0 && i < suffixes.length - 1) {
    value /= 1024;
    i++;
  }
  return `${value}${suffixes[i]}`;
}

/** Requests equal to limits: the Guaranteed QoS class, so a benchmark pod is neither throttled below nor evicted first. */
export const guaranteedResources = (cpu: number | string, memoryMiB: number): k8s.ResourceRequirements => {
  const quantities = {
    cpu: k8s.Quantity.fromString(typeof cpu === "number" ? cpuQuantity(cpu) : cpu),
    memory: k8s.Quantity.fromString(memoryQuantity(memoryMiB)),
  };
  return { requests: quantities, limits: quantities };
};

/** Requests below limits, for the monitoring tools whose use varies. */
export const burstableResources = (
  requests: { cpu: string; memory: string },
  limits: { cpu?: string; memory: string },
): k8s.ResourceRequirements => ({
  requests: { cpu: k8s.Quantity.fromString(requests.cpu), memory: k8s.Quantity.fromString(requests.memory) },
  limits: {
    ...(limits.cpu === undefined ? {} : { cpu: k8s.Quantity.fromString(limits.cpu) }),
    memory: k8s.Quantity.fromString(limits.memory),
  },
});
