/**
 * `creditgate serve` as a real process (node with the tsx loader, so no build is needed): it
 * starts only with a valid configuration and bundle, serves on the port it printed, reloads the
 * bundle on SIGHUP, and on SIGTERM answers what it accepted, closes the store and exits 0 (or,
 * with a request stuck past the grace, cuts it and exits 1).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { createRequire } from "node:module";
import { type AddressInfo, connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { mintDevToken } from "../../src/identity/index.js";
import { packageRoot } from "../../src/paths.js";
import { validate } from "../../src/schema-registry.js";
import { SqliteLedgerStore } from "../../src/storage/sqlite/store.js";
import {
  committedBundleFiles,
  committedBundlePath,
  devSigningKey,
  repack,
  utf8,
} from "../helpers/bundles.js";

const root = mkdtempSync(join(tmpdir(), "creditgate-cli-serve-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// The process runs in the temporary cwd, so the tsx loader is resolved from the package.
const tsx = pathToFileURL(createRequire(join(packageRoot, "package.json")).resolve("tsx"));
const mainUrl = pathToFileURL(join(packageRoot, "src", "cli", "main.ts"));
const script = `const { main } = await import(${JSON.stringify(mainUrl.href)}); process.exitCode = await main(process.argv.slice(1));`;

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

interface ServeProcess {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly exited: Promise<Exit>;
  /** The address from "creditgate listening on ..."; rejects if the process exits first. */
  readonly address: Promise<string>;
}

const running = new Set<ChildProcess>();
afterEach(() => {
  // A failed assertion must not leave a server behind.
  for (const child of running) if (child.exitCode === null) child.kill("SIGKILL");
  running.clear();
});

let cwd: string;
let dbPath: string;
let bundlePath: string;

beforeEach(() => {
  cwd = mkdtempSync(join(root, "case-"));
  dbPath = join(cwd, "ledger.db");
  bundlePath = join(cwd, "bundle.tar.gz");
  copyFileSync(committedBundlePath, bundlePath);
});

function writeConfig(options: { watch?: boolean; bundle?: string; extra?: string } = {}): void {
  writeFileSync(
    join(cwd, "creditgate.yaml"),
    [
      "store:",
      "  kind: sqlite",
      "  sqlite:",
      "    path: ledger.db",
      "policy:",
      `  bundle: ${options.bundle ?? "bundle.tar.gz"}`,
      `  watch: ${options.watch ?? false}`,
      options.extra ?? "",
    ].join("\n"),
  );
}

function serve(...args: string[]): ServeProcess {
  const child = spawn(
    process.execPath,
    ["--import", tsx.href, "--input-type=module", "-e", script, "serve", ...args],
    // PORT from the test runner's environment must not override --port 0.
    { cwd, env: { ...process.env, PORT: "", CREDITGATE_PORT: "", CREDITGATE_CONFIG: "" } },
  );
  running.add(child);
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<Exit>((resolve) => {
    child.on("exit", (code, signal) => resolve({ code, signal }));
  });
  const address = new Promise<string>((resolve, reject) => {
    const look = () => {
      const match = /creditgate listening on (http:\/\/\S+) /.exec(out);
      if (match) resolve(match[1] as string);
    };
    child.stdout.on("data", look);
    void exited.then(({ code }) =>
      reject(new Error(`serve exited (${code}) before listening:\n${out}\n${err}`)),
    );
  });
  // Cases that expect an early exit never await the address.
  address.catch(() => undefined);
  return { child, stdout: () => out, stderr: () => err, exited, address };
}

const adminToken = () =>
  mintDevToken({ sub: "ops", tenant: "ops", plan: "enterprise", admin: true, platform: true });
const userToken = () => mintDevToken({ sub: "usr_1", tenant: "acme", plan: "pro" });

async function call(
  base: string,
  method: string,
  path: string,
  options: { token?: string; key?: string; body?: unknown } = {},
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.key !== undefined) headers["idempotency-key"] = options.key;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  return { status: response.status, body: await response.json() };
}

async function grant(base: string, amount: number): Promise<void> {
  const res = await call(base, "POST", "/v1/admin/grants", {
    token: await adminToken(),
    key: `grant-${amount}`,
    body: { tenant: "acme", class: "paid", amount },
  });
  expect(res.status).toBe(201);
}

async function until(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe("creditgate serve", () => {
  it("listens on the port it prints and answers /readyz; SIGTERM exits 0", async () => {
    // watch: true, so the exit also shows the bundle watcher does not keep the process alive.
    writeConfig({ watch: true });
    const proc = serve("--port", "0", "--config", "creditgate.yaml");
    const base = await proc.address;
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(base).not.toMatch(/:0$/);

    const ready = await call(base, "GET", "/readyz");
    expect(ready.status).toBe(200);
    expect(validate("api/health-response", ready.body)).toEqual([]);
    expect(ready.body).toMatchObject({ status: "ok", checks: { policy: "ok", store: "ok" } });
    const revision = (ready.body as { policy_revision: string }).policy_revision;
    expect(proc.stdout()).toContain(`(policy ${revision}, store sqlite)`);

    proc.child.kill("SIGTERM");
    expect(await proc.exited).toEqual({ code: 0, signal: null });
  });

  it("reports a port in use in one line with LISTEN_FAILED and exits 1", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    try {
      const port = (taken.address() as AddressInfo).port;
      writeConfig();
      const proc = serve(
        "--port",
        String(port),
        "--host",
        "127.0.0.1",
        "--config",
        "creditgate.yaml",
      );
      expect(await proc.exited).toEqual({ code: 1, signal: null });
      expect(proc.stderr()).toBe(
        `creditgate: LISTEN_FAILED: port ${port} on 127.0.0.1 is in use\n`,
      );
      expect(proc.stdout()).not.toContain("listening");
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it("prints its help and exits 0 for --help", async () => {
    const proc = serve("--help");
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    expect(proc.stdout()).toContain("Usage: creditgate serve");
    expect(proc.stdout()).toContain("SIGHUP reloads the policy bundle");
    expect(proc.stderr()).toBe("");
  });

  it("refuses an invalid configuration with CONFIG_INVALID naming every problem", async () => {
    writeConfig({ extra: "server:\n  port: eighty\nidentity:\n  dev_issuer: maybe\n" });
    const proc = serve("--config", "creditgate.yaml");
    expect(await proc.exited).toEqual({ code: 1, signal: null });
    const stderr = proc.stderr();
    expect(stderr).toMatch(/^creditgate: CONFIG_INVALID: /m);
    expect(stderr).toContain("/server/port");
    expect(stderr).toContain("/identity/dev_issuer");
    expect(proc.stdout()).not.toContain("listening");
  });

  it("refuses to start without a valid bundle (missing, or failing its signature)", async () => {
    writeConfig({ bundle: "missing.tar.gz" });
    const missing = serve("--port", "0", "--config", "creditgate.yaml");
    expect(await missing.exited).toEqual({ code: 1, signal: null });
    expect(missing.stderr()).toMatch(/^creditgate: BUNDLE_NOT_FOUND: /m);
    expect(missing.stdout()).not.toContain("listening");

    // Tampered policy data under the original signature.
    writeFileSync(
      bundlePath,
      await repack(await committedBundleFiles(), { "data.json": utf8('{"plans":{}}') }),
    );
    writeConfig();
    const tampered = serve("--port", "0", "--config", "creditgate.yaml");
    expect(await tampered.exited).toEqual({ code: 1, signal: null });
    expect(tampered.stderr()).toMatch(/^creditgate: BUNDLE_[A-Z_]+: /m);
    expect(tampered.stdout()).not.toContain("listening");
  });

  it("reloads the bundle on SIGHUP: a bad one is rejected and audited, a good one activates", async () => {
    // watch: false, so only the signal can trigger the reloads below.
    writeConfig({ watch: false });
    const proc = serve("--port", "0", "--config", "creditgate.yaml");
    const base = await proc.address;
    await grant(base, 10_000);
    const admin = await adminToken();
    const user = await userToken();
    const policyRecords = async () => {
      const res = await call(base, "GET", "/v1/audit?kind=policy", { token: admin });
      expect(res.status).toBe(200);
      return (
        res.body as { records: { data: { context: Record<string, unknown> } }[] }
      ).records.map((r) => r.data.context);
    };
    let n = 0;
    const decide = async () => {
      const res = await call(base, "POST", "/v1/decisions", {
        token: user,
        key: `dec-${n++}`,
        body: { action: { type: "prompt.submit" } },
      });
      expect(res.status).toBe(200);
      return res.body as { allow: boolean; policy_revision: string };
    };

    const startup = await policyRecords();
    expect(startup).toEqual([expect.objectContaining({ event: "activated" })]);
    const good = startup[0]?.revision as string;

    // Deploy-style replacement with a bad bundle; nothing happens until the signal.
    const stage = (bytes: Uint8Array) => {
      writeFileSync(`${bundlePath}.staged`, bytes);
      renameSync(`${bundlePath}.staged`, bundlePath);
    };
    stage(await repack(await committedBundleFiles(), { "data.json": utf8('{"plans":{}}') }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await policyRecords()).toHaveLength(1);

    proc.child.kill("SIGHUP");
    await until(async () => (await policyRecords()).length === 2);
    const rejected = (await policyRecords())[1];
    expect(rejected).toMatchObject({ event: "rejected", kept_revision: good });
    expect(rejected?.code).toMatch(/^BUNDLE_/);
    expect(await decide()).toEqual(expect.objectContaining({ allow: true, policy_revision: good }));

    // A good bundle with a new revision: SIGHUP activates it and decisions report it.
    const files = await committedBundleFiles();
    const manifest = JSON.parse(Buffer.from(files.get(".manifest") as Uint8Array).toString());
    stage(
      await repack(
        files,
        { ".manifest": utf8(JSON.stringify({ ...manifest, revision: "after-sighup" })) },
        await devSigningKey(),
      ),
    );
    proc.child.kill("SIGHUP");
    await until(async () => (await policyRecords()).length === 3);
    expect((await policyRecords())[2]).toMatchObject({
      event: "activated",
      revision: "after-sighup",
      previous_revision: good,
    });
    expect(await decide()).toEqual(
      expect.objectContaining({ allow: true, policy_revision: "after-sighup" }),
    );
    expect(proc.child.exitCode).toBeNull();

    proc.child.kill("SIGTERM");
    expect(await proc.exited).toEqual({ code: 0, signal: null });
  });

  it("on SIGTERM with a request stuck in flight cuts it after shutdown_grace_ms and exits 1", async () => {
    // The request timeout is long, so only the shutdown can end the stuck request.
    writeConfig({
      extra:
        "server:\n  shutdown_grace_ms: 500\n  request_timeout_ms: 60000\n  headers_timeout_ms: 60000\n",
    });
    const proc = serve("--port", "0", "--config", "creditgate.yaml");
    const base = new URL(await proc.address);
    const socket = connect(Number(base.port), base.hostname);
    socket.on("error", () => undefined);
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    let received = "";
    socket.setEncoding("utf8").on("data", (chunk: string) => {
      received += chunk;
    });
    // Expect: 100-continue, so the 100 proves the server took the request in; its body never
    // completes.
    socket.write(
      [
        "POST /v1/decisions HTTP/1.1",
        "Host: localhost",
        `Authorization: Bearer ${await userToken()}`,
        "Idempotency-Key: stuck",
        "Content-Type: application/json",
        "Content-Length: 1000",
        "Expect: 100-continue",
        "",
        "{",
      ].join("\r\n"),
    );
    await until(async () => received.startsWith("HTTP/1.1 100 Continue"));

    const signalledAt = Date.now();
    proc.child.kill("SIGTERM");
    const exit = await proc.exited;
    const elapsed = Date.now() - signalledAt;
    expect(exit).toEqual({ code: 1, signal: null });
    expect(elapsed).toBeGreaterThanOrEqual(500);
    expect(elapsed).toBeLessThan(500 + 1_500);
    expect(proc.stderr()).toMatch(
      /^creditgate: shutdown grace of 500 ms ran out; cut 1 request in flight$/m,
    );
    await closed;
    // The store was closed cleanly: its chain verifies and the cut request charged nothing.
    const store = SqliteLedgerStore.open({ path: dbPath });
    try {
      expect(await store.verifyAudit()).toMatchObject({ ok: true });
      expect((await store.queryAudit({ kind: "decision", limit: 10 })).records).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it("on SIGTERM answers every request it took in, exits 0 and leaves a verified ledger", async () => {
    writeConfig({ watch: true });
    const proc = serve("--port", "0", "--config", "creditgate.yaml");
    const base = new URL(await proc.address);
    await grant(base.origin, 1_000_000);
    const user = await userToken();

    type Outcome =
      | { kind: "response"; status: number; text: string; afterSignal: boolean }
      | { kind: "error"; code: string };
    let signalled = false;
    let firstAnswer: () => void = () => undefined;
    const answered = new Promise<void>((resolve) => {
      firstAnswer = resolve;
    });
    // One connection per request (no keep-alive pool), so a refused or reset connection is a
    // request the server never took, never a pooled socket closed under a later request.
    const decide = (i: number) =>
      new Promise<Outcome>((resolve) => {
        const body = JSON.stringify({ action: { type: "prompt.submit" } });
        const req = httpRequest(
          {
            host: base.hostname,
            port: base.port,
            method: "POST",
            path: "/v1/decisions",
            agent: false,
            headers: {
              authorization: `Bearer ${user}`,
              "idempotency-key": `drain-${i}`,
              "content-type": "application/json",
              "content-length": Buffer.byteLength(body),
            },
          },
          (res) => {
            let text = "";
            res.setEncoding("utf8");
            res.on("data", (chunk: string) => {
              text += chunk;
            });
            res.on("end", () => {
              firstAnswer();
              resolve({
                kind: "response",
                status: res.statusCode ?? 0,
                text,
                afterSignal: signalled,
              });
            });
            res.on("error", (error: NodeJS.ErrnoException) =>
              resolve({ kind: "error", code: `response ${error.code ?? error.message}` }),
            );
          },
        );
        req.on("error", (error: NodeJS.ErrnoException) =>
          resolve({ kind: "error", code: error.code ?? error.message }),
        );
        req.end(body);
      });

    const total = 300;
    const outcomes = Array.from({ length: total }, (_, i) => decide(i));
    // Signal while the server is busy: the first answers are out, most are still queued.
    await answered;
    proc.child.kill("SIGTERM");
    signalled = true;
    const results = await Promise.all(outcomes);
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    expect(proc.stderr()).not.toContain("ran out");

    const responses = results.filter((r) => r.kind === "response");
    const allowed: string[] = [];
    for (const r of responses) {
      // A request the server read is answered in full: a decision, or a 503 while closing.
      expect([200, 503]).toContain(r.status);
      const body = JSON.parse(r.text) as { allow?: boolean; decision_id?: string };
      if (r.status === 200) {
        expect(validate("api/decision-response", body)).toEqual([]);
        expect(body.allow).toBe(true);
        allowed.push(body.decision_id as string);
      }
    }
    // Requests the server never took failed to connect or were reset before being read.
    for (const r of results) {
      if (r.kind === "error") expect(r.code).toMatch(/ECONNREFUSED|ECONNRESET|EPIPE/);
    }
    expect(allowed.length).toBeGreaterThan(0);
    // Some decisions were still in flight when the signal went out, and were completed.
    expect(responses.some((r) => r.status === 200 && r.afterSignal)).toBe(true);

    const store = SqliteLedgerStore.open({ path: dbPath });
    try {
      expect(await store.verifyAudit()).toMatchObject({ ok: true });
      const debits = await store.queryAudit({ kind: "debit", limit: 1_000 });
      const debited = debits.records.map(
        (r) => (r.data as { context: { decision_id: string } }).context.decision_id,
      );
      // Exactly the answered decisions were charged: none lost, none charged without an answer.
      expect([...debited].sort()).toEqual([...allowed].sort());
      const balances = await store.balances("acme");
      expect(balances.posted.paid).toBe(1_000_000 - 10 * allowed.length);
      expect(balances.held.paid).toBe(0);
    } finally {
      await store.close();
    }
  });
});
