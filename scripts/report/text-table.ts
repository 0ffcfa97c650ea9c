/** Plain-text tables for the terminal: columns padded to their widest cell; numbers right-aligned. */

export type Align = "left" | "right";

export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly Align[] = [],
  indent = "",
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const cell = (text: string, i: number) => ((align[i] ?? "left") === "right" ? text.padStart(widths[i]!) : text.padEnd(widths[i]!));
  const render = (r: readonly string[]) =>
    indent +
    header
      .map((_, i) => cell(r[i] ?? "", i))
      .join("  ")
      .trimEnd();
  return [render(header), ...rows.map(render)].join("\n");
}

export const usd = (n: number): string => `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

export const integer = (n: number): string => n.toLocaleString("en-US");
