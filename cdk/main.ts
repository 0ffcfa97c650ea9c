/**
 * CDK entry point (cdk.json: `tsx cdk/main.ts`). Reads the size keys from CDK context, validates them once
 * (a bad value stops synth with one line naming the key, the value and what is allowed), then builds the kit.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { App } from "aws-cdk-lib";
import { buildKit } from "./app.ts";
import { kitCharts } from "./kit-charts.ts";
import { SizeInputError, sizeInputKeys } from "./size/size-input.ts";
import { sizePlanFrom, type SizePlan } from "./size/size-plan.ts";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
/** The image build context: the repo root; tests point it at a small fixture to keep synth fast. */
const imageDirectory = process.env.ANOMALY_KIT_IMAGE_DIR ?? repoRoot;
const app = new App();

let plan: SizePlan;
try {
  plan = sizePlanFrom(Object.fromEntries(sizeInputKeys.map((key) => [key, app.node.tryGetContext(key) as unknown])));
} catch (error) {
  if (!(error instanceof SizeInputError)) throw error;
  console.error(`error: ${error.message}`);
  process.exit(1);
}

if (!existsSync(join(imageDirectory, "Dockerfile"))) {
  console.error(`error: the detector image is built from a Dockerfile, and there is none in ${imageDirectory}`);
  process.exit(1);
}

buildKit(app, plan, { imageDirectory, charts: kitCharts });
app.synth();
