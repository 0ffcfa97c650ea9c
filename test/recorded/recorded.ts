/**
 * Real response bodies of the services the kit calls (AWS APIs, Kubernetes, Prometheus, CLI tools), one folder
 * per service, read by the tests that replay them to the real clients.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const recordedDir = fileURLToPath(new URL("./", import.meta.url));

/** The body of a recorded response, e.g. recorded("ec2/DescribeInstanceTypeOfferings.page-1.xml"). */
export const recorded = (path: string): string => readFileSync(recordedDir + path, "utf8");
