/**
 * The cluster admin's IAM GetRole goes through the real AWS CLI (scripts/aws/cluster-admin.ts), replayed here
 * from the recorded responses. Without the CLI those tests cannot run: they fail saying so, never skip.
 */
import { execFileSync } from "node:child_process";

const present = (() => {
  try {
    execFileSync("aws", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

/** Throws, saying what to install, when `aws` is not on PATH. */
export function requireAwsCli(): void {
  if (!present) {
    throw new Error(
      "this test replays IAM GetRole to the AWS CLI, which the cluster admin check calls: `aws` is not on PATH; install the AWS CLI v2 and run again",
    );
  }
}
