import { defineConfig } from "vitest/config";

// Three projects: `unit` needs nothing running; `integration` (files named *.int.test.ts) talks to the
// real local Kafka + Cassandra that test/global-setup.ts starts if needed and stops if it started them.
// `cluster` (files named *.cluster.test.ts), starts servers of its own (a multi-broker Kafka on ports
// of its own range) and needs nothing of the shared stack.
// Files run one at a time: on a 2-core machine they would otherwise fight over the same servers.
export default defineConfig({
  test: {
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 300_000,
    projects: [
      { extends: true, test: { name: "unit", include: ["test/**/*.test.ts"], exclude: ["test/**/*.int.test.ts", "test/**/*.cluster.test.ts"] } },
      {
        extends: true,
        test: { name: "integration", include: ["test/**/*.int.test.ts"], globalSetup: ["test/global-setup.ts"] },
      },
      { extends: true, test: { name: "cluster", include: ["test/**/*.cluster.test.ts"] } },
    ],
  },
});
