import { defineConfig } from "vitest/config";

// Three projects: `unit` needs nothing running; `integration` (files named *.int.test.ts) talks to the
// real local Kafka + Cassandra that test/global-setup.ts starts if needed and stops if it started them.
// `cluster` (files named *.cluster.test.ts), starts servers of its own (a multi-broker Kafka on ports
// of its own range) and needs nothing of the shared stack.
// Files run one at a time: on a 2-core machine they would otherwise fight over the same servers.
// Test files live under test/ only (`dir`; the patterns below are relative to it), so the search for them
// never walks .local/, where the servers keep their data.
export default defineConfig({
  test: {
    dir: "test",
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 300_000,
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["**/*.test.ts"], exclude: ["**/*.int.test.ts", "**/*.cluster.test.ts", "**/node_modules/**"] },
      },
      {
        extends: true,
        test: { name: "integration", include: ["**/*.int.test.ts"], globalSetup: ["test/global-setup.ts"] },
      },
      { extends: true, test: { name: "cluster", include: ["**/*.cluster.test.ts"] } },
    ],
  },
});
