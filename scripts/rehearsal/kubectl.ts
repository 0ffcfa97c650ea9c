/**
 * kubectl of the control plane's own release (built with it), against the rehearsal cluster's kubeconfig.
 * Why kubectl and not an npm client: it is what the EKS stack applies manifests with (the CDK's kubectl Lambda
 * layer), it speaks server-side apply, eviction-based drain and rollout status natively, and it is exactly the
 * server's version, so no client/server skew can hide or invent a problem.
 */
import { execFile } from "node:child_process";
import { binary } from "./build.ts";

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export class Kubectl {
  readonly kubeconfig: string;

  constructor(kubeconfig: string) {
    this.kubeconfig = kubeconfig;
  }

  /** Runs kubectl; never throws on a non-zero exit (callers report what the server said). */
  run(args: readonly string[], input?: string, timeoutMs = 120_000): Promise<KubectlResult> {
    return new Promise((resolve) => {
      const child = execFile(
        binary("kubectl"),
        ["--kubeconfig", this.kubeconfig, ...args],
        { maxBuffer: 256 * 1024 * 1024, timeout: timeoutMs },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof (error as { code?: unknown }).code === "number" ? (error as { code: number }).code : 1;
          resolve({ code, stdout, stderr });
        },
      );
      if (input !== undefined) child.stdin!.end(input);
    });
  }

  /** Runs kubectl and throws with its stderr when it fails. */
  async ok(args: readonly string[], input?: string, timeoutMs?: number): Promise<string> {
    const r = await this.run(args, input, timeoutMs);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (exit ${r.code}): ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** `kubectl get ... -o json` parsed. */
  async json<T = { items: Record<string, unknown>[] }>(args: readonly string[]): Promise<T> {
    return JSON.parse(await this.ok([...args, "-o", "json"])) as T;
  }
}
