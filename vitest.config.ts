import { defineConfig } from "vitest/config";

// Integration tests share one real local Kafka + Cassandra (started by test/global-setup.ts),
// so files run one at a time on this 2-core machine rather than fighting over the servers.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 300_000,
  },
});
