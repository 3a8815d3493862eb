/**
 * The machinery of `npm run bench` (bench/run.ts): child processes that are always cleaned up,
 * readiness polling, RSS from /proc/<pid>/status, and one autocannon load run with sub-millisecond
 * latency percentiles and a check of every response body.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import autocannon from "autocannon";

// ---------------------------------------------------------------------------------------------
// Children and temporary directories: whatever happens (error, SIGINT, SIGTERM), they go.

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();

function killAll(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  children.clear();
}

function removeTempDirs(): void {
  if (process.env.BENCH_KEEP_TMP === "1") {
    for (const dir of tempDirs) console.error(`kept ${dir}`);
  } else {
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  }
  tempDirs.clear();
}

let handlersInstalled = false;

/** Kills every child and removes every temporary directory on exit, error, SIGINT and SIGTERM. */
export function installCleanup(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on("exit", () => {
    killAll();
    removeTempDirs();
  });
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    process.on(signal, () => {
      console.error(`\n${signal}: stopping the children`);
      process.exit(code);
    });
  }
}

export function registerTempDir(dir: string): string {
  tempDirs.add(dir);
  return dir;
}

export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves when the process ended, with its exit code or signal. */
  readonly exited: Promise<string>;
}

/**
 * Starts a process with stdout and stderr going to `logFile` (never through this process, so
 * the load generator does not pay for the target's output).
 */
export function startChild(
  name: string,
  command: string,
  args: readonly string[],
  options: { readonly cwd: string; readonly env: NodeJS.ProcessEnv; readonly logFile: string },
): Child {
  const fd = openSync(options.logFile, "a");
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ["ignore", fd, fd],
  });
  closeSync(fd);
  children.add(child);
  const exited = new Promise<string>((resolve) => {
    child.once("exit", (code, signal) => {
      children.delete(child);
      resolve(signal !== null ? `signal ${signal}` : `exit code ${code ?? "?"}`);
    });
    child.once("error", (error) => {
      children.delete(child);
      resolve(`spawn error: ${error.message}`);
    });
  });
  if (child.pid === undefined) throw new Error(`${name}: cannot start ${command}`);
  return { name, process: child, pid: child.pid, logFile: options.logFile, exited };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopChild(child: Child, graceMs = 5_000): Promise<string> {
  const proc = child.process;
  if (proc.exitCode !== null || proc.signalCode !== null) return child.exited;
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
  try {
    return await child.exited;
  } finally {
    clearTimeout(timer);
  }
}

export function logTail(file: string, chars = 2_000): string {
  if (!existsSync(file)) return "";
  const text = readFileSync(file, "utf8");
  return text.length > chars ? `...${text.slice(-chars)}` : text;
}

/** Polls `url` until it answers 200; fails early when the child exits. */
export async function waitReady(child: Child, url: string, timeoutMs = 60_000): Promise<number> {
  const start = performance.now();
  let gone: string | undefined;
  void child.exited.then((how) => {
    gone = how;
  });
  let last = "no answer";
  while (performance.now() - start < timeoutMs) {
    if (gone !== undefined) {
      throw new Error(
        `${child.name} exited (${gone}) before it was ready; its output:\n${logTail(child.logFile)}`,
      );
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.status === 200) return performance.now() - start;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `${child.name} was not ready at ${url} after ${timeoutMs} ms (${last}); its output:\n${logTail(child.logFile)}`,
  );
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** Runs a command to completion (a CLI step of the setup); throws with its output on failure. */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { readonly cwd: string; readonly env: NodeJS.ProcessEnv },
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.add(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.once("error", (error) => {
      children.delete(child);
      reject(error);
    });
    child.once("close", (code, signal) => {
      children.delete(child);
      const stdout = Buffer.concat(out).toString("utf8");
      if (code === 0) {
        resolve(stdout);
        return;
      }
      const stderr = Buffer.concat(err).toString("utf8");
      reject(
        new Error(
          `\`${[command, ...args].join(" ")}\` failed (${signal ?? `exit code ${code}`}):\n${stderr}${stdout}`,
        ),
      );
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Memory.

export interface ProcMemory {
  /** Resident set size now, KiB. */
  readonly rssKiB: number;
  /** Peak resident set size over the process lifetime (VmHWM), KiB. */
  readonly hwmKiB: number;
}

export function readMemory(pid: number): ProcMemory | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return undefined;
  }
  const field = (name: string) => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text);
    return match?.[1] === undefined ? Number.NaN : Number(match[1]);
  };
  return { rssKiB: field("VmRSS"), hwmKiB: field("VmHWM") };
}

/**
 * CPU time the process has used so far (user + system), in seconds, from /proc/<pid>/stat; clock
 * ticks are taken as 100 per second (USER_HZ on Linux).
 */
export function readCpuSeconds(pid: number): number {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return Number.NaN;
  }
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis don't.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Jiffies of all CPUs together from /proc/stat: busy (not idle, not iowait) and total. */
export function cpuTimes(): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((a, b) => a + b, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}

/** How busy all CPUs are, 0 to 1, over `ms` (run it while no target runs: that is other work). */
export async function machineBusy(ms = 1_000): Promise<number> {
  const before = cpuTimes();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = cpuTimes();
  const total = after.total - before.total;
  return total > 0 ? (after.busy - before.busy) / total : 0;
}

export interface RssReport {
  /** Highest VmRSS sampled while the sampler ran, MiB. */
  readonly sampledPeakMiB: number;
  /** VmHWM at the end: the kernel's own peak over the process lifetime, start-up included, MiB. */
  readonly peakMiB: number;
  /** VmRSS when the measurement ended, MiB. */
  readonly endMiB: number;
  readonly samples: number;
}

const mib = (kib: number) => kib / 1024;

/** Samples VmRSS of `pid` every `intervalMs` until stopped. */
export function sampleRss(pid: number, intervalMs = 100): () => RssReport {
  let peak = 0;
  let samples = 0;
  const take = () => {
    const memory = readMemory(pid);
    if (memory === undefined || Number.isNaN(memory.rssKiB)) return undefined;
    peak = Math.max(peak, memory.rssKiB);
    samples++;
    return memory;
  };
  take();
  const timer = setInterval(take, intervalMs);
  return () => {
    clearInterval(timer);
    const last = take();
    return {
      sampledPeakMiB: mib(peak),
      peakMiB: mib(Math.max(peak, last?.hwmKiB ?? 0)),
      endMiB: mib(last?.rssKiB ?? Number.NaN),
      samples,
    };
  };
}

// ---------------------------------------------------------------------------------------------
// Load.

export interface LoadSpec {
  /** Origin, e.g. http://127.0.0.1:8080. */
  readonly origin: string;
  readonly path: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  /** `authorization: Bearer <token>`, round-robin per request; none when empty. */
  readonly bearerTokens: readonly string[];
  /** Each request carries `idempotency-key: <prefix>-<n>`, unique within the run. */
  readonly idempotencyPrefix: string;
}

export interface LoadResult {
  readonly seconds: number;
  /** Responses received (any status). */
  readonly responses: number;
  /** autocannon's mean of its per-second request counts. */
  readonly perSecond: number;
  /** Responses ÷ elapsed seconds. */
  readonly perSecondOverall: number;
  /** Latency percentiles of 2xx responses, from autocannon's per-request timings (sub-ms). */
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** autocannon's own percentiles (its histogram keeps whole milliseconds). */
  readonly autocannonP50Ms: number;
  readonly autocannonP99Ms: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly statusCodes: Readonly<Record<string, number>>;
  /** 2xx responses whose body holds `"allow":true`. */
  readonly allowed: number;
  /** The first 2xx body and the first non-2xx body, as received. */
  readonly sample2xx: string | undefined;
  readonly sampleNon2xx: string | undefined;
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/** One autocannon run: `connections` keep-alive connections, pipelining 1, for `seconds`. */
export function load(spec: LoadSpec, connections: number, seconds: number): Promise<LoadResult> {
  let latencies = new Float64Array(1 << 16);
  let recorded = 0;
  let allowed = 0;
  let sequence = 0;
  let sample2xx: string | undefined;
  let sampleNon2xx: string | undefined;
  const tokens = spec.bearerTokens;

  const request: autocannon.Request = {
    method: "POST",
    path: spec.path,
    headers: { "content-type": "application/json", ...spec.headers },
    body: spec.body,
    setupRequest: (req) => {
      const n = sequence++;
      const headers = req.headers ?? {};
      headers["idempotency-key"] = `${spec.idempotencyPrefix}-${n}`;
      const token = tokens.length === 0 ? undefined : tokens[n % tokens.length];
      if (token !== undefined) headers.authorization = `Bearer ${token}`;
      req.headers = headers;
      return req;
    },
    onResponse: (status, body) => {
      if (status >= 200 && status < 300) {
        if (body.includes('"allow":true')) allowed++;
        sample2xx ??= body;
      } else {
        sampleNon2xx ??= body;
      }
    },
  };

  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.origin,
        connections,
        pipelining: 1,
        duration: seconds,
        timeout: 10,
        requests: [request],
      },
      (error: unknown, result: autocannon.Result) => {
        if (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        const sorted = latencies.subarray(0, recorded).sort();
        const statusCodes: Record<string, number> = {};
        for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) {
          statusCodes[code] = stat.count ?? 0;
        }
        const responses = Object.values(statusCodes).reduce((a, b) => a + b, 0);
        resolve({
          seconds: result.duration,
          responses,
          perSecond: result.requests.mean,
          perSecondOverall: responses / result.duration,
          p50Ms: percentile(sorted, 0.5),
          p90Ms: percentile(sorted, 0.9),
          p99Ms: percentile(sorted, 0.99),
          maxMs: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] ?? Number.NaN),
          autocannonP50Ms: result.latency.p50,
          autocannonP99Ms: result.latency.p99,
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          statusCodes,
          allowed,
          sample2xx,
          sampleNon2xx,
        });
      },
    );
    instance.on("response", (_client, statusCode, _bytes, responseTime) => {
      if (statusCode < 200 || statusCode >= 300) return;
      if (recorded === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[recorded++] = responseTime;
    });
  });
}
