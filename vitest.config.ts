import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Suites that start PostgreSQL or spawn opa share two cores; keep parallelism modest.
    maxWorkers: 2,
  },
});
