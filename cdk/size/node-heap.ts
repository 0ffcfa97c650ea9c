/**
 * Node's heap size as the environment a detector process starts with: the pod (charts) and a memory-limited
 * local run (`npm run local -- --detector-memory-mib`) set it the same way, from the size plan's derivation.
 */
export const nodeHeapEnv = (maxOldSpaceMiB: number): Record<string, string> => ({ NODE_OPTIONS: `--max-old-space-size=${maxOldSpaceMiB}` });
