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

/** Requests equal to limits: the Guaranteed QoS class, so a benchmark pod is neither throttled below nor evicted first. */
export const guaranteedResources = (cpu: number | string, memoryMiB: number): k8s.ResourceRequirements => {
  const quantities = {
    cpu: typeof cpu === "number" ? k8s.Quantity.fromNumber(cpu) : k8s.Quantity.fromString(cpu),
    memory: k8s.Quantity.fromString(`${memoryMiB}Mi`),
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
