import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    // One PostgreSQL server per run for the store tests; each test file creates its own database.
    globalSetup: ["test/helpers/postgres-global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Suites that start PostgreSQL or spawn opa share two cores; keep parallelism modest.
    maxWorkers: 2,
  },
});
