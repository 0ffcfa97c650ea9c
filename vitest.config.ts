import { defineConfig } from "vitest/config";

// Two projects: `unit` needs nothing running; `integration` (files named *.int.test.ts) talks to the
// real local Kafka + Cassandra that test/global-setup.ts starts if needed and stops if it started them.
// Files run one at a time: on a 2-core machine they would otherwise fight over the same servers.
export default defineConfig({
  test: {
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 300_000,
    projects: [
      { extends: true, test: { name: "unit", include: ["test/**/*.test.ts"], exclude: ["test/**/*.int.test.ts"] } },
      {
        extends: true,
        test: { name: "integration", include: ["test/**/*.int.test.ts"], globalSetup: ["test/global-setup.ts"] },
      },
    ],
  },
});
