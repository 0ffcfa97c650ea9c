/**
 * Reading an image's digest from its registry with the tools a deploy machine has: Docker's buildx
 * (`docker buildx imagetools inspect`, which a deploy's Docker already brings) or crane (`crane digest`). Both
 * give the digest of what the tag names, for a multi-platform image its index, so the runtime still picks its
 * platform. The first tool that answers is used; each failure is kept to explain a reference none resolved.
 */
import { digestPattern } from "../../cdk/image-lock.ts";
import type { ToolRunner } from "../aws/tools-check.ts";

export interface DigestTool {
  readonly name: string;
  readonly command: string;
  args(reference: string): string[];
  /** The digest in the tool's output, or null when there is none. */
  parse(output: string): string | null;
}

export const digestTools: readonly DigestTool[] = [
  {
    name: "docker buildx imagetools",
    command: "docker",
    args: (reference) => ["buildx", "imagetools", "inspect", reference],
    // The top block's "Digest:" line (the index's); the per-platform manifests below are indented.
    parse: (output) => /^Digest:\s+(sha256:[0-9a-f]{64})\s*$/m.exec(output)?.[1] ?? null,
  },
  {
    name: "crane",
    command: "crane",
    args: (reference) => ["digest", reference],
    parse: (output) => (digestPattern.test(output.trim()) ? output.trim() : null),
  },
];

export type DigestResult =
  | { readonly reference: string; readonly digest: string; readonly tool: string }
  | { readonly reference: string; readonly digest: undefined; readonly errors: readonly string[] };

const firstLine = (error: unknown): string => {
  if (error instanceof Error && "code" in error && error.code === "ENOENT") return "not found on PATH";
  const text = error instanceof Error ? error.message : String(error);
  return (
    text
      .split("\n")
      .find((l) => l.trim() !== "" && !l.startsWith("Command failed"))
      ?.trim() ?? text.split("\n")[0]!
  );
};

/** The digest `reference` names, from the first tool that answers with one. */
export async function resolveDigest(reference: string, run: ToolRunner, tools: readonly DigestTool[] = digestTools): Promise<DigestResult> {
  const errors: string[] = [];
  for (const tool of tools) {
    let output: string;
    try {
      output = await run(tool.command, tool.args(reference));
    } catch (error) {
      errors.push(`${tool.name}: ${firstLine(error)}`);
      continue;
    }
    const digest = tool.parse(output);
    if (digest !== null) return { reference, digest, tool: tool.name };
    errors.push(`${tool.name}: no digest in its output (${output.trim().split("\n")[0]?.slice(0, 100) ?? ""})`);
  }
  return { reference, digest: undefined, errors };
}
