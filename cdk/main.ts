/**
 * CDK entry point (cdk.json: `tsx cdk/main.ts`). Reads the size and access keys from CDK context, validates
 * them once (a bad value or an unknown key stops synth with one line naming the key, the value and what is
 * allowed), then builds the kit.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { App } from "aws-cdk-lib";
import { buildKit } from "./app.ts";
import { kitCharts } from "./kit-charts.ts";
import { kitInputFromContext, type KitInput } from "./kit-input.ts";
import { SizeInputError } from "./size/size-input.ts";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
/** The image build context: the repo root; tests point it at a small fixture to keep synth fast. */
const imageDirectory = process.env.ANOMALY_KIT_IMAGE_DIR ?? repoRoot;
const app = new App();

let input: KitInput;
try {
  // The whole context: an unknown key (a typo of a size key) is refused, not ignored.
  input = kitInputFromContext(app.node.getAllContext() as Record<string, unknown>);
} catch (error) {
  if (!(error instanceof SizeInputError)) throw error;
  console.error(`error: ${error.message}`);
  process.exit(1);
}

if (!existsSync(join(imageDirectory, "Dockerfile"))) {
  console.error(`error: the detector image is built from a Dockerfile, and there is none in ${imageDirectory}`);
  process.exit(1);
}

buildKit(app, input.plan, { imageDirectory, access: input.access, charts: kitCharts });
app.synth();
