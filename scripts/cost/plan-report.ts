/** The experiment plan as text for the terminal (`npm run plan`); `--json` prints the ExperimentPlan itself. */
import type { ExperimentPlan, PlannedStage } from "./experiment-plan.ts";
import { formatTable, integer, usd } from "../report/text-table.ts";

const hours = (h: number) => `${h} h`;

function stageText(s: PlannedStage): string {
  const r = s.resources;
  const p = s.plan;
  const out: string[] = [];
  out.push(`${s.name}: ${p.cassandra.nodes} Cassandra nodes, load ${integer(r.loadRatePerSecond)} events/s`);
  out.push(
    formatTable(
      ["tier", "service", "instance type", "count", "vCPU each", "vCPUs"],
      r.tiers.map((t) => [t.tier, t.service, t.instanceType, integer(t.count), integer(t.vcpusEach), integer(t.vcpus)]),
      ["left", "left", "left", "right", "right", "right"],
      "  ",
    ),
  );
  out.push(
    `  vCPUs: ${integer(r.totalVcpus)} in all; ${integer(r.ec2StandardVcpus)} count against the EC2 on-demand standard quota (L-1216C47A)`,
  );
  out.push(
    `  MSK brokers ${r.mskBrokers} × ${integer(p.kafka.storageGiBPerBroker)} GiB storage, EKS worker nodes ${r.eksNodes}, partitions ${r.partitions}`,
  );
  out.push(
    `  pods: detector ${r.detectorPods} × ${p.detector.cpu} CPU (${p.detector.history === "held" ? `held history, ${integer(p.detector.heldKeys)} keys held at most` : "history read every check"}), load generator ${r.loadgenPods} × ${p.load.cpu} CPU`,
  );
  out.push("  hourly cost:");
  out.push(
    formatTable(
      ["item", "quantity", "unit", "$/unit-hour", "$/hour"],
      [
        ...s.hourly.lines.map((l) => [
          l.item,
          l.quantity === undefined ? "?" : integer(l.quantity),
          l.unit,
          l.unitPricePerHour === undefined ? "missing" : l.unitPricePerHour.toFixed(l.unitPricePerHour < 0.01 ? 6 : 4),
          l.perHour === undefined ? "missing" : usd(l.perHour),
        ]),
        ["total", "", "", "", `${usd(s.hourly.perHour)}${s.hourly.partial ? " (partial)" : ""}`],
      ],
      ["left", "right", "left", "right", "right"],
      "    ",
    ),
  );
  for (const m of s.hourly.missing) out.push(`    missing: ${m}`);
  out.push(`  stage cost for ${hours(s.hours)}: ${s.hourly.partial ? "at least " : ""}${usd(s.cost)}`);
  return out.join("\n");
}

export function planReport(e: ExperimentPlan): string {
  const first = e.stages[0]!.plan;
  const out: string[] = [];
  out.push(
    `Experiment "${first.experimentId}" in ${first.region} (${first.availabilityZones.join(", ")}): ${e.stages.length} stage(s), ` +
      `${hours(e.hoursPerStage)} per stage${e.overheadHoursPerStage > 0 ? ` + ${hours(e.overheadHoursPerStage)} overhead` : ""}`,
  );
  out.push(
    e.priceList === undefined
      ? `Prices: none for ${first.region} (only us-east-1 is listed); every total is partial`
      : `Prices: ${e.priceList.region} on-demand, as of ${e.priceList.asOf}; ${e.priceList.source}`,
  );
  for (const s of e.stages) out.push("", stageText(s));
  out.push("");
  if (e.stages.length > 1) {
    out.push(
      formatTable(
        ["stage", "Cassandra", "MSK brokers", "workers", "vCPUs", "$/hour", "hours", "cost"],
        e.stages.map((s) => [
          s.name,
          integer(s.plan.cassandra.nodes),
          integer(s.resources.mskBrokers),
          integer(s.resources.eksNodes),
          integer(s.resources.totalVcpus),
          `${usd(s.hourly.perHour)}${s.hourly.partial ? "+" : ""}`,
          String(s.hours),
          `${usd(s.cost)}${s.hourly.partial ? "+" : ""}`,
        ]),
        ["left", "right", "right", "right", "right", "right", "right", "right"],
      ),
    );
    out.push("");
  }
  out.push(
    `Estimated total: ${e.total.partial ? "at least " : ""}${usd(e.total.cost)} for ${e.stages.length} stage(s) × ${hours(e.stages[0]!.hours)}` +
      (e.total.partial ? ` (partial: ${e.total.missing.length} missing figure(s) above)` : ""),
  );
  const storage = [...new Set(e.stages.map((s) => s.plan.kafka.storageGiBPerBroker))];
  out.push(
    `MSK storage: ${storage.map((g) => `${integer(g)} GiB`).join(" / ")} per broker, set once for the experiment ` +
      "(MSK allows one storage increase per cool-down of 6 to 24 hours; --msk-storage-gib here and -c kafkaStorageGiB= in cdk set another)",
  );
  out.push(
    `Largest stage ${e.largest.stage}: ${integer(e.largest.ec2StandardVcpus)} on-demand standard vCPUs, ${e.largest.mskBrokers} MSK brokers (what preflight checks)`,
  );
  out.push(`Not included: ${e.excludes.join("; ")}.`);
  return out.join("\n");
}
