/**
 * The decision flow in-process, without HTTP (`createEngine`): 50 concurrent callers deciding
 * enforced, audited decisions on SQLite FULL for BENCH_SECONDS. Next to `npm run bench` it says
 * how much of a decision's time is the flow itself and how much the HTTP service around it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../src/config/load.js";
import { createEngine } from "../src/embedded.js";
import type { VerifiedPrincipal } from "../src/identity/index.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 8);
const callers = Number(process.env.BENCH_CONNECTIONS ?? 50);
const principalsCount = Number(process.env.BENCH_PRINCIPALS ?? 8);

const dir = mkdtempSync(join(tmpdir(), "creditgate-bench-engine-"));
try {
  const base = await loadConfig({ env: {}, cwd: dir });
  const engine = await createEngine({
    config: {
      ...base,
      store: { kind: "sqlite", sqlite: { path: join(dir, "ledger.db"), synchronous: "FULL" } },
      policy: { ...base.policy, watch: false },
      tasks: { ...base.tasks, keys_file: join(dir, "task-keys.json") },
    },
  });
  await engine.store.grant({
    tenant: "acme",
    key: "fund",
    class: "paid",
    amount: 100_000_000_000,
    source: "bench",
  });
  // Verified principals, as the service has them after its token cache: the flow alone is timed.
  const principals: VerifiedPrincipal[] = Array.from({ length: principalsCount }, (_, i) => ({
    kind: "user",
    id: `usr_${i}`,
    tenant: "acme",
    plan: "enterprise",
    roles: [],
    scopes: [],
    jti: `jti_${i}`,
    expMs: Date.now() + 3_600_000,
    issuer: "bench",
    tokenHash: "0".repeat(64),
  }));
  const action = { type: "tool.call", tool: "web.search" };
  const latenciesMs: number[] = [];
  let next = 0;
  let allowed = 0;
  const endMs = performance.now() + seconds * 1_000;
  const caller = async (id: number): Promise<void> => {
    while (performance.now() < endMs) {
      const startedMs = performance.now();
      const answer = await engine.decide(
        { principal: principals[id % principalsCount] as VerifiedPrincipal },
        action,
        {
          idempotencyKey: `bench-${next++}`,
        },
      );
      latenciesMs.push(performance.now() - startedMs);
      if (answer.allow) allowed++;
    }
  };
  const startedMs = performance.now();
  await Promise.all(Array.from({ length: callers }, (_, i) => caller(i)));
  const elapsedS = (performance.now() - startedMs) / 1_000;
  await engine.close();
  latenciesMs.sort((a, b) => a - b);
  const at = (q: number) =>
    latenciesMs[Math.min(latenciesMs.length - 1, Math.floor(q * latenciesMs.length))] ?? 0;
  if (allowed !== latenciesMs.length)
    throw new Error(`${latenciesMs.length - allowed} decisions were denied`);
  console.log(
    `engine in-process: ${Math.round(latenciesMs.length / elapsedS)} decisions/s over ${elapsedS.toFixed(1)} s, ` +
      `${callers} callers, p50 ${at(0.5).toFixed(2)} ms, p99 ${at(0.99).toFixed(2)} ms, all allowed`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
