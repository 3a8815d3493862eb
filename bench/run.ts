/**
 * `npm run bench`: the service benchmark. Three targets, each in its own child process, loaded in
 * turn by autocannon from this process (50 connections, pipelining 1, a warm-up, then the
 * measured run):
 *
 *   a  ceiling     bench/service-ceiling.mjs, a bare fastify POST /v1/decisions with a constant body
 *   b  OPA         `opa run --server` on the same policy as Rego, POST /v1/data/creditgate/decision
 *   c  creditgate  `creditgate serve` on SQLite (synchronous FULL): token, policy (Wasm), ledger
 *                  debit, usage counters and audit record per request, unique idempotency keys
 *
 * Prints req/s, p50/p99, non-2xx and RSS (from /proc/<pid>/status) per target, the ratios c/a and
 * c/b against their targets, writes bench/results/service-<timestamp>.json and prints a row for
 * bench/README.md. Environment: BENCH_TARGETS (a,b,c), BENCH_SECONDS (10), BENCH_WARMUP_SECONDS
 * (2), BENCH_CONNECTIONS (50), BENCH_PRINCIPALS (8), BENCH_LOG_LEVEL (creditgate's, warn),
 * BENCH_KEEP_TMP=1, OPA_BIN.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import type { Config, ServerConfig } from "../src/config/types.js";
import { packageRoot } from "../src/paths.js";
import { defaultLayout, stagePolicy } from "../src/policy/build.js";
import { readBundleFile } from "../src/policy/bundle.js";
import { defaultBundleKeyId, loadVerificationKey } from "../src/policy/keys.js";
import { readTarGz } from "../src/policy/tar.js";
import { runTool, toolPath } from "../src/policy/toolchain.js";
import {
  type Child,
  cpuTimes,
  freePort,
  installCleanup,
  type LoadResult,
  type LoadSpec,
  load,
  machineBusy,
  type RssReport,
  readCpuSeconds,
  registerTempDir,
  runCommand,
  sampleRss,
  startChild,
  stopChild,
  waitReady,
} from "./service-harness.js";

type TargetId = "a" | "b" | "c";

const targetNames: Readonly<Record<TargetId, string>> = {
  a: "ceiling (fastify, constant body)",
  b: "OPA server (Rego)",
  c: "creditgate serve",
};

function positiveNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

const seconds = positiveNumber("BENCH_SECONDS", 10);
const warmupSeconds = positiveNumber("BENCH_WARMUP_SECONDS", 2);
const connections = Math.round(positiveNumber("BENCH_CONNECTIONS", 50));
const principals = Math.round(positiveNumber("BENCH_PRINCIPALS", 8));
const logLevel = process.env.BENCH_LOG_LEVEL ?? "warn";
const selected = parseTargets(process.env.BENCH_TARGETS ?? "a,b,c");
const benchDir = import.meta.dirname;
const creditgateBin = join(packageRoot, "bin", "creditgate.js");
const bundleFile = join(packageRoot, "bundles", "creditgate.tar.gz");
const publicKeyFile = join(packageRoot, "keys", "dev", "bundle-signing.pub.pem");
const signingKeyFile = join(packageRoot, "keys", "dev", "bundle-signing.key.pem");

/** The goals from the service issue: creditgate against the ceiling, against OPA, and its p99. */
const goals = { cOverA: 0.35, cOverB: 1.0, p99CMs: 5 } as const;

function parseTargets(raw: string): TargetId[] {
  const ids = raw
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const id of ids) {
    if (id !== "a" && id !== "b" && id !== "c") {
      throw new Error(`BENCH_TARGETS: unknown target "${id}" (use a, b, c)`);
    }
  }
  return (["a", "b", "c"] as const).filter((id) => ids.includes(id));
}

// ---------------------------------------------------------------------------------------------
// The workload: one allowed low-risk tool call (test/fixtures/decisions/05-pro-tool-call-web-search
// on the enterprise plan, whose velocity limit of 100,000 calls per minute per principal leaves
// room for a benchmark; BENCH_PRINCIPALS spreads the calls over several principals).

const tenant = "bench";
const plan = "enterprise";
const action = { type: "tool.call", tool: "web.search" } as const;
const grantAmount = 100_000_000_000;

const opaInput = {
  principal: { kind: "user", id: "usr_bench_0", tenant, plan, roles: [], scopes: [] },
  action,
  balances: { trial: 0, paid: grantAmount, promo: 0, admin: 0 },
  usage: { calls_per_minute: 0, credits_per_hour: 0, workflow_steps: 0 },
  now: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
};

/** The environment of every child: none of the caller's creditgate overrides or the tsx loader. */
function childEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith("CREDITGATE_") || key === "PORT") continue;
    if (key === "NODE_OPTIONS" && value?.includes("tsx")) continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

// ---------------------------------------------------------------------------------------------
// Targets.

interface Started {
  readonly child: Child;
  readonly readyUrl: string;
  readonly spec: Omit<LoadSpec, "idempotencyPrefix">;
  readonly details: Record<string, unknown>;
  /** After the measured run, while the child still runs: extra figures for the result file. */
  readonly probe?: () => Promise<Record<string, unknown>>;
  /** After the child stopped: checks that the load did what it should have. */
  readonly verify?: (measured: readonly LoadResult[]) => Promise<Verification>;
}

interface Verification {
  readonly ok: boolean;
  readonly summary: string;
  readonly details: Record<string, unknown>;
}

async function startCeiling(dir: string): Promise<Started> {
  const port = await freePort();
  const child = startChild("ceiling", process.execPath, [join(benchDir, "service-ceiling.mjs")], {
    cwd: packageRoot,
    env: childEnv({ PORT: String(port) }),
    logFile: join(dir, "ceiling.log"),
  });
  const origin = `http://127.0.0.1:${port}`;
  return {
    child,
    readyUrl: `${origin}/readyz`,
    spec: {
      origin,
      path: "/v1/decisions",
      body: JSON.stringify({ action }),
      headers: {},
      bearerTokens: ["bench-ceiling-does-not-check-this"],
    },
    details: { script: "bench/service-ceiling.mjs", node: process.version },
  };
}

/**
 * OPA cannot serve bundles/creditgate.tar.gz itself: its Rego holds everything but the
 * `decision` rule (that one is compiled into policy.wasm), and the pinned OPA has no Wasm engine
 * ("engine not found"). So: verify the committed bundle, build a Rego bundle of the same sources
 * and data at the same revision, sign it with the same development key, and have OPA verify
 * that signature on load.
 */
async function startOpa(dir: string): Promise<Started> {
  const opa = toolPath("opa");
  const key = await loadVerificationKey({ publicKeyPath: publicKeyFile, algorithm: "ES256" });
  const committed = await readBundleFile(bundleFile, { verificationKey: key });
  const stage = await stagePolicy(defaultLayout(packageRoot), { includeTests: false });
  const regoBundle = join(dir, "creditgate-rego.tar.gz");
  try {
    const build = await runTool(
      "opa",
      [
        "build",
        "-b",
        ".",
        "-t",
        "rego",
        "--revision",
        committed.revision,
        "--signing-key",
        signingKeyFile,
        "--signing-alg",
        "ES256",
        "-o",
        regoBundle,
      ],
      { cwd: stage.dir },
    );
    if (build.exitCode !== 0) {
      throw new Error(`opa build -t rego failed:\n${build.stderr}${build.stdout}`);
    }
  } finally {
    await stage.cleanup();
  }
  // Both data.json files are as `opa build` writes them, so equal data is equal bytes.
  const builtData = readTarGz(readFileSync(regoBundle)).get("data.json");
  const dataMatches =
    builtData !== undefined &&
    Buffer.from(builtData).equals(Buffer.from(committed.files.get("data.json") ?? []));
  if (!dataMatches) {
    console.warn(
      "warning: policies/data differs from the committed bundle's data.json; OPA evaluates the working tree",
    );
  }
  const port = await freePort();
  const args = [
    "run",
    "--server",
    "--addr",
    `127.0.0.1:${port}`,
    "--bundle",
    regoBundle,
    "--verification-key",
    publicKeyFile,
    "--verification-key-id",
    defaultBundleKeyId,
    "--signing-alg",
    "ES256",
    "--log-level",
    "error",
    "--shutdown-grace-period",
    "1",
  ];
  const child = startChild("opa", opa, args, {
    cwd: dir,
    env: childEnv(),
    logFile: join(dir, "opa.log"),
  });
  const origin = `http://127.0.0.1:${port}`;
  const version = await runTool("opa", ["version"]);
  return {
    child,
    readyUrl: `${origin}/health?bundles`,
    spec: {
      origin,
      path: "/v1/data/creditgate/decision",
      body: JSON.stringify({ input: opaInput }),
      headers: {},
      bearerTokens: [],
    },
    details: {
      opaVersion: /^Version: (.*)$/m.exec(version.stdout)?.[1] ?? "unknown",
      gomaxprocs: process.env.GOMAXPROCS ?? `default (${cpus().length})`,
      bundle:
        "Rego build of policies/ at the committed revision, signed with keys/dev, verified by OPA",
      revision: committed.revision,
      dataMatchesCommittedBundle: dataMatches,
      args: args.map((a) => (a === regoBundle ? "<tmp>/creditgate-rego.tar.gz" : a)),
      input: opaInput,
    },
    // OPA's own timers for one more decision, warm: how much of a request is Rego evaluation.
    probe: async () => {
      const response = await fetch(`${origin}/v1/data/creditgate/decision?metrics=true`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ input: opaInput }),
      });
      const body = (await response.json()) as { metrics?: Record<string, unknown> };
      return { opaMetricsOfOneDecision: body.metrics ?? null };
    },
  };
}

interface Balances {
  readonly available: Readonly<Record<string, number>>;
  readonly posted: Readonly<Record<string, number>>;
  readonly held: Readonly<Record<string, number>>;
}

function parseBalances(text: string): Balances {
  const parsed = JSON.parse(text) as Partial<Balances>;
  if (
    typeof parsed.available !== "object" ||
    typeof parsed.posted !== "object" ||
    typeof parsed.held !== "object"
  ) {
    throw new Error(`creditgate balances printed something unexpected:\n${text}`);
  }
  return parsed as Balances;
}

/** Whether this checkout's CLI has `serve` (it is built from dist/). */
async function checkServe(): Promise<void> {
  try {
    await runCommand(process.execPath, [creditgateBin, "serve", "--help"], {
      cwd: packageRoot,
      env: childEnv(),
    });
  } catch (error) {
    throw new Error(
      `target c needs \`creditgate serve\` (run \`npm run build\`; measure a and b alone with BENCH_TARGETS=a,b):\n${(error as Error).message}`,
    );
  }
}

async function startCreditgate(dir: string): Promise<Started> {
  const port = await freePort();
  const configFile = join(dir, "creditgate.yaml");
  const dbFile = join(dir, "creditgate.db");
  // The sections this benchmark depends on; the others (audit, holds, tasks, ...) keep the
  // defaults, which loadConfig merges under the file (relative paths land in this directory).
  // The server's connection timeouts and cap keep their defaults too.
  const config: Pick<Config, "store" | "policy" | "identity"> & {
    server: Pick<
      ServerConfig,
      "host" | "port" | "body_limit_bytes" | "rate_limit" | "shutdown_grace_ms"
    >;
  } = {
    server: {
      host: "127.0.0.1",
      port,
      body_limit_bytes: 65_536,
      // On, as in a deployment, but far above what one machine can send.
      rate_limit: { requests_per_second: 1_000_000, burst: 10_000_000 },
      shutdown_grace_ms: 5_000,
    },
    store: { kind: "sqlite", sqlite: { path: dbFile, synchronous: "FULL" } },
    policy: {
      bundle: bundleFile,
      public_key: publicKeyFile,
      algorithm: "ES256",
      allow_unsigned: false,
      watch: false,
    },
    identity: { issuers: [], dev_issuer: true },
  };
  writeFileSync(configFile, stringify(config));
  const env = childEnv();
  // No access log per request, as for OPA (--log-level error) and the ceiling (logger off).
  const serveEnv = childEnv({ CREDITGATE_LOG_LEVEL: logLevel });
  const cli = (...args: string[]) =>
    runCommand(process.execPath, [creditgateBin, ...args, "--config", configFile], {
      cwd: dir,
      env,
    });

  // The ledger lives in the SQLite file, so the CLI funds it before the service opens it.
  const granted = JSON.parse(
    await cli(
      "grant",
      "--tenant",
      tenant,
      "--class",
      "paid",
      "--amount",
      String(grantAmount),
      "--key",
      "bench-fund",
      "--source",
      "bench",
    ),
  ) as { ok?: boolean };
  if (granted.ok !== true) throw new Error(`grant failed: ${JSON.stringify(granted)}`);
  const before = parseBalances(await cli("balances", "--tenant", tenant));
  const tokens = await Promise.all(
    Array.from({ length: principals }, async (_, i) =>
      (await cli("token", "--sub", `usr_bench_${i}`, "--tenant", tenant, "--plan", plan)).trim(),
    ),
  );

  const child = startChild(
    "creditgate",
    process.execPath,
    [creditgateBin, "serve", "--config", configFile],
    { cwd: dir, env: serveEnv, logFile: join(dir, "creditgate.log") },
  );
  const origin = `http://127.0.0.1:${port}`;
  return {
    child,
    readyUrl: `${origin}/readyz`,
    spec: {
      origin,
      path: "/v1/decisions",
      body: JSON.stringify({ action }),
      headers: {},
      bearerTokens: tokens,
    },
    details: {
      config: {
        ...config,
        store: { kind: "sqlite", sqlite: { path: "<tmp>/creditgate.db", synchronous: "FULL" } },
      },
      principals,
      logLevel,
      plan,
      action,
      grant: grantAmount,
    },
    verify: async (runs) => {
      const after = parseBalances(await cli("balances", "--tenant", tenant));
      const consumed = (before.available.paid ?? 0) - (after.available.paid ?? 0);
      const allowed = runs.reduce((sum, r) => sum + r.allowed, 0);
      const ok2xx = runs.reduce((sum, r) => sum + (r.statusCodes["200"] ?? 0), 0);
      const sample = runs.find((r) => r.sample2xx !== undefined)?.sample2xx;
      let cost = Number.NaN;
      let sampleAllow: unknown;
      if (sample !== undefined) {
        const body = JSON.parse(sample) as { allow?: unknown; cost?: unknown };
        sampleAllow = body.allow;
        if (typeof body.cost === "number") cost = body.cost;
      }
      const expected = allowed * cost;
      // Requests still in flight when autocannon stopped were decided but never counted here.
      const slack = runs.length * connections * cost;
      const ok =
        sampleAllow === true &&
        allowed === ok2xx &&
        allowed > 0 &&
        consumed >= expected &&
        consumed - expected <= slack;
      return {
        ok,
        summary: `${allowed.toLocaleString("en-US")} of ${ok2xx.toLocaleString("en-US")} 200 responses allowed at ${cost} credits; the ledger's paid balance went down by ${consumed.toLocaleString("en-US")} (${(consumed / cost).toLocaleString("en-US")} decisions; up to ${runs.length * connections} were in flight at the stops)`,
        details: {
          allowedResponses: allowed,
          responses200: ok2xx,
          costPerDecision: cost,
          creditsConsumed: consumed,
          creditsExpectedFromResponses: expected,
          balancesBefore: before,
          balancesAfter: after,
          sampleBody: sample,
        },
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Running one target.

interface TargetResult {
  readonly target: TargetId;
  readonly name: string;
  /** Fraction of all CPUs busy with other work in the second before the target started. */
  readonly otherCpuBusyAtStart: number;
  readonly readyMs: number;
  readonly warmup: LoadResult;
  readonly measured: LoadResult;
  readonly rss: RssReport;
  /** CPU time of the target during the measured run, as a percentage of one core. */
  readonly cpuPercent: number;
  /** CPU time of this process (autocannon) during the measured run, % of one core. */
  readonly loadGeneratorCpuPercent: number;
  /** CPU used by everything else on the machine during the measured run, % of one core. */
  readonly otherCpuPercentDuringRun: number;
  readonly exit: string;
  readonly details: Record<string, unknown>;
  readonly verification: Verification;
}

function bodyCheck(id: TargetId, runs: readonly LoadResult[]): Verification {
  const allowed = runs.reduce((sum, r) => sum + r.allowed, 0);
  const ok2xx = runs.reduce((sum, r) => sum + (r.statusCodes["200"] ?? 0), 0);
  return {
    ok: allowed > 0 && allowed === ok2xx,
    summary: `${allowed.toLocaleString("en-US")} of ${ok2xx.toLocaleString("en-US")} 200 responses say "allow":true`,
    details: {
      allowedResponses: allowed,
      responses200: ok2xx,
      sampleBody: runs.find((r) => r.sample2xx !== undefined)?.sample2xx,
      target: id,
    },
  };
}

async function runTarget(id: TargetId, runId: string): Promise<TargetResult> {
  const dir = registerTempDir(mkdtempSync(join(tmpdir(), `creditgate-bench-${id}-`)));
  const busy = await machineBusy();
  console.log(
    `\n[${id}] ${targetNames[id]}: starting (CPUs ${(busy * 100).toFixed(0)}% busy with other work)`,
  );
  if (busy > 0.2) {
    console.warn(
      `[${id}] warning: other processes keep the CPUs ${(busy * 100).toFixed(0)}% busy; figures will be low and noisy`,
    );
  }
  const started =
    id === "a"
      ? await startCeiling(dir)
      : id === "b"
        ? await startOpa(dir)
        : await startCreditgate(dir);
  const readyMs = await waitReady(started.child, started.readyUrl);
  console.log(`[${id}] ready in ${readyMs.toFixed(0)} ms (pid ${started.child.pid})`);
  const stopRss = sampleRss(started.child.pid);
  let warmup: LoadResult;
  let measured: LoadResult;
  let rss: RssReport;
  let cpuPercent = Number.NaN;
  let loadCpuPercent = Number.NaN;
  let otherCpuPercent = Number.NaN;
  try {
    warmup = await load(
      { ...started.spec, idempotencyPrefix: `${runId}-${id}-w` },
      connections,
      warmupSeconds,
    );
    console.log(`[${id}] warm-up ${warmupSeconds} s: ${fmtRate(warmup.perSecond)} req/s`);
    const cpuBefore = readCpuSeconds(started.child.pid);
    const ownBefore = process.cpuUsage();
    const machineBefore = cpuTimes();
    measured = await load(
      { ...started.spec, idempotencyPrefix: `${runId}-${id}-m` },
      connections,
      seconds,
    );
    cpuPercent = ((readCpuSeconds(started.child.pid) - cpuBefore) / measured.seconds) * 100;
    const own = process.cpuUsage(ownBefore);
    loadCpuPercent = ((own.user + own.system) / 1e6 / measured.seconds) * 100;
    const machineAfter = cpuTimes();
    const machinePercent =
      ((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) *
      cpus().length *
      100;
    otherCpuPercent = Math.max(0, machinePercent - cpuPercent - loadCpuPercent);
  } finally {
    rss = stopRss();
  }
  const probed = started.probe ? await started.probe() : {};
  const exit = await stopChild(started.child);
  if (measured.sampleNon2xx !== undefined) {
    console.log(`[${id}] first non-2xx body: ${measured.sampleNon2xx.slice(0, 500)}`);
  }
  const runs = [warmup, measured];
  const verification = started.verify ? await started.verify(runs) : bodyCheck(id, runs);
  const result: TargetResult = {
    target: id,
    name: targetNames[id],
    otherCpuBusyAtStart: busy,
    readyMs,
    warmup,
    measured,
    rss,
    cpuPercent,
    loadGeneratorCpuPercent: loadCpuPercent,
    otherCpuPercentDuringRun: otherCpuPercent,
    exit,
    details: { ...started.details, ...probed },
    verification,
  };
  console.log(
    `[${id}] ${fmtRate(measured.perSecond)} req/s, p50 ${ms(measured.p50Ms)} ms, p99 ${ms(measured.p99Ms)} ms, non-2xx ${measured.non2xx}, errors ${measured.errors}, RSS peak ${rss.peakMiB.toFixed(1)} MiB, end ${rss.endMiB.toFixed(1)} MiB, CPU ${cpuPercent.toFixed(0)}% of a core (autocannon ${loadCpuPercent.toFixed(0)}%, other processes ${otherCpuPercent.toFixed(0)}%)`,
  );
  console.log(
    `[${id}] ${verification.ok ? "verified" : "VERIFICATION FAILED"}: ${verification.summary}`,
  );
  if (otherCpuPercent > 20) {
    console.warn(
      `[${id}] warning: other processes used ${otherCpuPercent.toFixed(0)}% of a core during the run; figures are low and noisy`,
    );
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Reporting.

const fmtRate = (n: number) => Math.round(n).toLocaleString("en-US");
const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : "—");

function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(" | ")} |`;
  const rule = `| ${widths.map((w, c) => (c === 0 ? "-".repeat(w) : `${"-".repeat(w - 1)}:`)).join(" | ")} |`;
  return [line(header), rule, ...rows.map(line)];
}

interface Ratio {
  readonly name: string;
  readonly value: number;
  readonly goal: string;
  readonly met: boolean;
}

function ratios(results: ReadonlyMap<TargetId, TargetResult>): Ratio[] {
  const a = results.get("a")?.measured;
  const b = results.get("b")?.measured;
  const c = results.get("c")?.measured;
  const out: Ratio[] = [];
  if (c && a) {
    const value = c.perSecond / a.perSecond;
    out.push({ name: "c/a req/s", value, goal: `≥ ${goals.cOverA}`, met: value >= goals.cOverA });
  }
  if (c && b) {
    const value = c.perSecond / b.perSecond;
    out.push({ name: "c/b req/s", value, goal: `≥ ${goals.cOverB}`, met: value >= goals.cOverB });
  }
  if (c) {
    out.push({
      name: "p99(c) ms",
      value: c.p99Ms,
      goal: `< ${goals.p99CMs}`,
      met: c.p99Ms < goals.p99CMs,
    });
  }
  return out;
}

/** The row for the table in bench/README.md; targets not measured in this run show "—". */
function readmeRow(
  date: string,
  results: ReadonlyMap<TargetId, TargetResult>,
  ratioList: readonly Ratio[],
): string {
  const rate = (id: TargetId) => {
    const r = results.get(id);
    return r ? fmtRate(r.measured.perSecond) : "—";
  };
  const latency = (id: TargetId) => {
    const r = results.get(id);
    return r ? `${ms(r.measured.p50Ms)} / ${ms(r.measured.p99Ms)}` : "—";
  };
  const rss = (id: TargetId) => {
    const r = results.get(id);
    return r ? r.rss.peakMiB.toFixed(0) : "—";
  };
  const ratio = (name: string) => {
    const r = ratioList.find((x) => x.name === name);
    return r ? `${r.value.toFixed(2)}× (${r.met ? "met" : "missed"})` : "—";
  };
  const cells = [
    date.slice(0, 16).replace("T", " "),
    `${cpus().length}`,
    `${seconds}`,
    rate("a"),
    rate("b"),
    rate("c"),
    latency("a"),
    latency("b"),
    latency("c"),
    ratio("c/a req/s"),
    ratio("c/b req/s"),
    `${rss("a")} / ${rss("b")} / ${rss("c")}`,
  ];
  return `| ${cells.join(" | ")} |`;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (selected.length === 0) throw new Error("BENCH_TARGETS selects no target");
  if (selected.includes("b")) toolPath("opa");
  if (selected.includes("c")) await checkServe();

  const runId = randomBytes(6).toString("hex");
  const date = new Date().toISOString();
  console.log(
    `service benchmark ${date}: targets ${selected.join(",")}, ${connections} connections, pipelining 1, ${warmupSeconds} s warm-up + ${seconds} s per target, ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"})`,
  );
  const results = new Map<TargetId, TargetResult>();
  for (const id of selected) results.set(id, await runTarget(id, runId));

  const rows = [...results.values()].map((r) => [
    `${r.target} ${r.name}`,
    fmtRate(r.measured.perSecond),
    ms(r.measured.p50Ms),
    ms(r.measured.p99Ms),
    r.measured.non2xx.toLocaleString("en-US"),
    r.measured.errors.toLocaleString("en-US"),
    r.rss.peakMiB.toFixed(1),
    r.rss.endMiB.toFixed(1),
    r.cpuPercent.toFixed(0),
    r.otherCpuPercentDuringRun.toFixed(0),
  ]);
  const ratioList = ratios(results);
  console.log(
    `\n${markdownTable(
      [
        "target",
        "req/s (mean)",
        "p50 ms",
        "p99 ms",
        "non-2xx",
        "errors",
        "RSS peak MiB",
        "RSS end MiB",
        "CPU %",
        "other CPU %",
      ],
      rows,
    ).join("\n")}`,
  );
  if (ratioList.length > 0) {
    console.log(
      `\n${markdownTable(
        ["ratio", "value", "goal", "status"],
        ratioList.map((r) => [r.name, r.value.toFixed(2), r.goal, r.met ? "met" : "missed"]),
      ).join("\n")}`,
    );
  }

  mkdirSync(join(benchDir, "results"), { recursive: true });
  const file = join(
    benchDir,
    "results",
    `service-${date.replace(/:/g, "-").replace(/\.\d+Z$/, "Z")}.json`,
  );
  const meta = {
    date,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    node: process.version,
    connections,
    pipelining: 1,
    seconds,
    warmupSeconds,
    targets: selected,
  };
  writeFileSync(
    file,
    `${JSON.stringify({ ...meta, goals, ratios: ratioList, results: [...results.values()] }, null, 2)}\n`,
  );
  const row = readmeRow(date, results, ratioList);
  console.log(`\nrow for bench/README.md (Service benchmark):\n${row}\n\nwrote ${file}`);
  const failed = [...results.values()].filter((r) => !r.verification.ok || r.measured.non2xx > 0);
  if (failed.length > 0) {
    console.error(
      `\nnot clean: ${failed.map((r) => `${r.target} (${r.verification.ok ? `${r.measured.non2xx} non-2xx` : "verification failed"})`).join(", ")}`,
    );
    process.exitCode = 1;
  }
}

installCleanup();
main().catch((error: unknown) => {
  console.error(`\nbench failed: ${error instanceof Error ? error.message : String(error)}`);
  // The exit handler kills the children and removes the temporary directories.
  process.exit(1);
});
