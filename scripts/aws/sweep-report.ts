/** The sweep's findings as text: what is left (kind, id, how found, status, why), what was deleted. */
import { formatTable } from "../report/text-table.ts";
import type { SweepEntry, SweepReport } from "./deletion-order.ts";
import { experimentTagKey } from "./experiment-tag.ts";

const rows = (entries: readonly SweepEntry[]) =>
  entries.map((e) => [e.resource.kind, e.resource.id, e.resource.via, e.outcome.status, e.outcome.detail ?? ""]);

export function sweepReport(report: SweepReport, deleting: boolean): string {
  const out: string[] = [];
  if (report.done.length > 0 && deleting) {
    out.push(`deleted or scheduled for deletion (${report.done.length}):`);
    out.push(formatTable(["kind", "id", "found", "status", "detail"], rows(report.done), [], "  "));
    out.push("");
  }
  if (report.remaining.length === 0) {
    out.push(`sweep: nothing tagged ${experimentTagKey}=${report.experimentId} is left`);
  } else {
    out.push(`still there (${report.remaining.length}):`);
    out.push(formatTable(["kind", "id", "found", "status", "detail"], rows(report.remaining), [], "  "));
    out.push("");
    out.push(
      deleting
        ? `sweep: ${report.remaining.length} resource(s) of experiment ${report.experimentId} remain after ${report.rounds} round(s); run again, or delete them by hand`
        : `sweep: ${report.remaining.length} resource(s) of experiment ${report.experimentId} remain; run with --delete to delete them`,
    );
  }
  return out.join("\n");
}
