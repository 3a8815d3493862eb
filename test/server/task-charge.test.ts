/**
 * A task is charged only for what it is given, over HTTP on a virtual clock: no credential, no
 * fee and no hold; a task cannot start a task; and no error answer names a server path or a stack.
 */
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.js";
import { generateTaskKey, serializeTaskKeySet } from "../../src/tasks/index.js";
import { startTestService, type TestService } from "../helpers/service.js";

const startMs = Date.UTC(2026, 10, 24, 12);
let svc: TestService | undefined;

afterEach(async () => {
  await svc?.close();
  svc = undefined;
});

interface Task {
  task_id: string;
  hold_id: string;
  token: string;
}
interface Decision {
  allow: boolean;
  cost: number;
  reasons: { code: string }[];
}

const body = { budget: 1_000, ttl_seconds: 300, actions: ["tool.call"], tools: ["web.search"] };

async function start(s: TestService, token: string, key: string, request: unknown = body) {
  return s.request("POST", "/v1/tasks", {
    token,
    headers: { "idempotency-key": key },
    body: request,
  });
}

async function ledgerState(s: TestService) {
  const balances = await s.service.store.balances("acme");
  const audit = await s.service.store.queryAudit({ tenant: "acme", limit: 1_000 });
  return {
    posted: balances.posted,
    held: balances.held,
    kinds: audit.records.map((r) => r.kind),
  };
}

/** No answer names a path under the server's cwd or tmpdir, nor carries a stack line. */
function expectNoInternals(text: string, dir: string): void {
  for (const root of [process.cwd(), tmpdir(), dir]) {
    expect(text).not.toContain(root);
  }
  expect(text).not.toMatch(/\/(?:tmp|home|work|usr|var|src|node_modules)\/[\w.-]+/);
  expect(text).not.toMatch(/\bat .+:\d+:\d+/);
  expect(text).not.toMatch(/\.(?:ts|js|json):\d+/);
}

describe("signing keys", () => {
  it("signs a task started in the second its key was created", async () => {
    // The key is created half a second into the second; the token is issued at its start.
    const clock = new ManualClock(startMs + 500);
    svc = await startTestService({ clock });
    await svc.grant("acme", "paid", 100_000);
    const user = await svc.userToken();
    const res = await start(svc, user, "same-second");
    expect(res.status).toBe(200);
    const task = (res.body as { task: Task }).task;
    const spent = await svc.request("POST", "/v1/decisions", {
      token: task.token,
      headers: { "idempotency-key": "spend-1" },
      body: { action: { type: "tool.call", tool: "web.search" } },
    });
    expect((spent.body as Decision).allow).toBe(true);
  });

  it("refuses with no charge, no hold and no record when no key signs yet", async () => {
    const clock = new ManualClock(startMs);
    // Written by a host whose clock runs ahead: its only key signs ten seconds from now.
    const future = generateTaskKey(startMs + 10_000, startMs + 10_000);
    svc = await startTestService({
      clock,
      configure: async (config, dir) => {
        const file = join(dir, "task-keys.json");
        await writeFile(file, serializeTaskKeySet({ version: 1, keys: [future] }), {
          mode: 0o600,
        });
        return { ...config, tasks: { ...config.tasks, keys_file: file } };
      },
    });
    await svc.grant("acme", "paid", 100_000);
    const user = await svc.userToken();
    const before = await ledgerState(svc);
    const res = await start(svc, user, "too-early");
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ error: { code: "TASK_SIGNING_UNAVAILABLE", details: {} } });
    expectNoInternals(res.text, svc.dir);
    expect(await ledgerState(svc)).toEqual(before);
    // Once the key signs, the same request is decided and signed.
    clock.tick(10_000);
    const later = await start(svc, user, "too-early");
    expect(later.status).toBe(200);
    expect((later.body as { task: Task | null }).task).not.toBeNull();
  });
});

describe("a signing failure after the decision", () => {
  it("leaves no fee and no hold, and its retry charges nothing", async () => {
    const clock = new ManualClock(startMs);
    const s = await startTestService({ clock });
    svc = s;
    await s.grant("acme", "paid", 100_000);
    const user = await s.userToken();
    const before = await ledgerState(s);
    const tasks = s.service.tasks as { sign: typeof s.service.tasks.sign };
    const sign = tasks.sign;
    tasks.sign = async () => {
      throw new Error(`EACCES: permission denied, open '${join(s.dir, "task-keys.json")}'`);
    };
    const failed = await start(s, user, "unsigned");
    expect(failed.status).toBe(503);
    expect(failed.body).toMatchObject({ error: { code: "TASK_SIGNING_UNAVAILABLE" } });
    expectNoInternals(failed.text, s.dir);
    const after = await ledgerState(s);
    expect(after.posted).toEqual(before.posted);
    expect(after.held).toEqual(before.held);
    // The decision's fee and hold, then its undo: released and reversed, audited.
    expect(after.kinds.slice(before.kinds.length)).toEqual([
      "debit",
      "hold",
      "release",
      "reversal",
    ]);

    // The same key again, failing or not, charges nothing more and signs nothing.
    const again = await start(s, user, "unsigned");
    expect(again.status).toBe(503);
    tasks.sign = sign;
    const healed = await start(s, user, "unsigned");
    expect(healed.status).toBe(503);
    expect(await ledgerState(s)).toEqual(after);

    // A new key starts the task and charges once.
    const fresh = await start(s, user, "unsigned-2");
    expect(fresh.status).toBe(200);
    const charged = await s.service.store.balances("acme");
    expect(before.posted.paid - charged.posted.paid).toBe(500);
    expect(charged.held.paid).toBe(1_000);
  });
});

describe("a task starting a task", () => {
  it("is denied with TASK_NESTING_DENIED on both routes, and nothing is charged", async () => {
    const clock = new ManualClock(startMs);
    svc = await startTestService({ clock });
    await svc.grant("acme", "paid", 100_000);
    const user = await svc.userToken();
    const res = await start(svc, user, "parent-task", {
      budget: 2_000,
      actions: ["agent.task", "tool.call"],
    });
    const task = (res.body as { task: Task }).task;
    const before = await svc.service.store.balances("acme");
    const holdBefore = await svc.service.store.holdStatus("acme", task.hold_id);

    const decided = await svc.request("POST", "/v1/decisions", {
      token: task.token,
      headers: { "idempotency-key": "nested-decision" },
      body: { action: { type: "agent.task", task_id: "tsk_nested", units: { budget: 100 } } },
    });
    expect(decided.status).toBe(200);
    expect(decided.body).toMatchObject({ allow: false, cost: 0 });
    expect((decided.body as Decision).reasons.map((r) => r.code)).toEqual(["TASK_NESTING_DENIED"]);
    expect(decided.body).not.toHaveProperty("hold");

    const nested = await start(svc, task.token, "nested-task", {
      budget: 100,
      actions: ["tool.call"],
    });
    expect(nested.status).toBe(200);
    const answer = nested.body as { decision: Decision; task: unknown };
    expect(answer.task).toBeNull();
    expect(answer.decision.allow).toBe(false);
    expect(answer.decision.reasons.map((r) => r.code)).toContain("TASK_NESTING_DENIED");

    const after = await svc.service.store.balances("acme");
    expect(after.posted).toEqual(before.posted);
    expect(after.held).toEqual(before.held);
    expect(await svc.service.store.holdStatus("acme", task.hold_id)).toEqual(holdBefore);
  });
});

describe("error answers", () => {
  it("name no server path, driver message or stack", async () => {
    const clock = new ManualClock(startMs);
    svc = await startTestService({ clock });
    const user = await svc.userToken();
    const answers = await Promise.all([
      svc.request("GET", `/v1/nowhere${svc.dir}`),
      svc.request("POST", "/v1/decisions", { token: user, body: "{not json" }),
      svc.request("POST", "/v1/decisions", { token: user, body: { action: 1 } }),
      svc.request("POST", "/v1/decisions", { token: "not.a.token", body: {} }),
      svc.request("POST", "/v1/decisions", { token: user, body: { action: { type: "x" } } }),
      svc.request("POST", "/v1/tasks", {
        token: user,
        headers: { "idempotency-key": "no-credits" },
        body,
      }),
      svc.request("POST", "/v1/holds/hld_missing/release", { token: user, body: {} }),
      svc.request("GET", "/v1/tenants/acme/balances", { token: user }),
    ]);
    for (const answer of answers) {
      expect(answer.status).toBeGreaterThanOrEqual(200);
      // The 404 echoes the client's own URL; everything else must not name the directory.
      const text = answer.status === 404 ? answer.text.replaceAll(svc.dir, "") : answer.text;
      expectNoInternals(text, svc.dir);
    }
    expect(answers.filter((a) => a.status >= 400).length).toBeGreaterThanOrEqual(6);
  });
});
