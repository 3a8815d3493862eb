/**
 * Agent tasks over HTTP, on a virtual clock: a task credential is minted within its parent,
 * spends only its own budget, ends on completion or expiry with the rest released exactly once,
 * and cannot be substituted for another kind of token (or the reverse).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.js";
import { mintDevToken } from "../../src/identity/index.js";
import { validate } from "../../src/schema-registry.js";
import { decisionHeaders, startTestService, type TestService } from "../helpers/service.js";

let clock: ManualClock;
let svc: TestService;
let user: string;

beforeEach(async () => {
  clock = new ManualClock(Date.UTC(2026, 10, 24, 12));
  svc = await startTestService({ clock });
  await svc.grant("acme", "paid", 100_000);
  user = await svc.userToken({ sub: "usr_owner", plan: "pro" });
});
afterEach(async () => {
  await svc?.close();
});

interface Decision {
  allow: boolean;
  cost: number;
  reasons: { code: string }[];
  balances: Record<string, number>;
}
interface Task {
  task_id: string;
  hold_id: string;
  budget: number;
  scopes: string[];
  expires_at: string;
  token: string;
}

async function startTask(body: Record<string, unknown>, key = "task-1", token = user) {
  const res = await svc.request("POST", "/v1/tasks", {
    token,
    headers: { "idempotency-key": key },
    body,
  });
  return res;
}

async function createTask(budget = 1_000, ttl = 300): Promise<Task> {
  const res = await startTask({
    budget,
    ttl_seconds: ttl,
    actions: ["tool.call"],
    tools: ["web.search"],
  });
  expect(res.status).toBe(200);
  expect(validate("api/task-response", res.body)).toEqual([]);
  const body = res.body as { decision: Decision; task: Task };
  expect(body.decision.allow).toBe(true);
  return body.task;
}

async function decide(token: string, action: Record<string, unknown>, key?: string) {
  const res = await svc.request("POST", "/v1/decisions", {
    token,
    headers: decisionHeaders(key),
    body: { action },
  });
  return res;
}

const search = { type: "tool.call", tool: "web.search" };

describe("minting", () => {
  it("holds the budget for the credential's lifetime and answers a retry identically", async () => {
    const before = await svc.service.store.balances("acme");
    const first = await startTask({
      budget: 1_000,
      ttl_seconds: 300,
      actions: ["tool.call"],
      tools: ["web.search"],
    });
    const again = await startTask({
      budget: 1_000,
      ttl_seconds: 300,
      actions: ["tool.call"],
      tools: ["web.search"],
    });
    expect(again.text).toBe(first.text);
    const task = (first.body as { task: Task }).task;
    expect(task.scopes).toEqual(["tool.call:web.search"]);
    expect(Date.parse(task.expires_at)).toBe(clock.nowMs() + 300_000);
    const after = await svc.service.store.balances("acme");
    // The agent.task fee (500) is charged once; the budget is held.
    expect(before.posted.paid - after.posted.paid).toBe(500);
    expect(after.held.paid).toBe(1_000);
    const hold = await svc.service.store.holdStatus("acme", task.hold_id);
    expect(hold).toMatchObject({
      amount: 1_000,
      state: "active",
      expiresAtMs: clock.nowMs() + 300_000,
    });
  });

  it("refuses scopes the parent does not hold", async () => {
    const workload = await mintDevToken(
      {
        sub: "wl_1",
        tenant: "acme",
        plan: "pro",
        kind: "workload",
        scopes: ["agent.task", "tool.call:web.search"],
      },
      clock,
    );
    const ok = await startTask(
      { budget: 100, actions: ["tool.call"], tools: ["web.search"] },
      "wl-ok",
      workload,
    );
    expect((ok.body as { decision: Decision }).decision.allow).toBe(true);
    const wider = await startTask(
      { budget: 100, actions: ["tool.call"], tools: ["calculator"] },
      "wl-wide",
      workload,
    );
    expect(wider.status).toBe(403);
    expect(wider.body).toMatchObject({
      error: { code: "TASK_SCOPE_EXCEEDS_PARENT", details: { scopes: ["tool.call:calculator"] } },
    });
  });

  it("is a deny, with no credential, when the policy says no", async () => {
    const trial = await svc.userToken({ sub: "usr_trial", plan: "trial" });
    const res = await startTask({ budget: 100, actions: ["tool.call"] }, "trial-task", trial);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ decision: { allow: false }, task: null });
  });
});

describe("spending under a task", () => {
  it("draws only from the task's budget and stops there while the tenant still has credits", async () => {
    const task = await createTask(1_000);
    const answers: Decision[] = [];
    for (let i = 0; i < 21; i++)
      answers.push((await decide(task.token, search, `s-${i}`)).body as Decision);
    expect(answers.slice(0, 20).every((a) => a.allow && a.cost === 50)).toBe(true);
    expect(answers[19]?.balances.paid).toBe(0);
    expect(answers[20]?.allow).toBe(false);
    // The policy is shown only what is left of the task's hold, with no overdraft.
    expect(answers[20]?.reasons.map((r) => r.code)).toContain("INSUFFICIENT_CREDITS");
    const tenant = await svc.service.store.balances("acme");
    expect(tenant.available.paid).toBeGreaterThan(90_000);
    expect(await svc.service.store.holdStatus("acme", task.hold_id)).toMatchObject({
      drawn: 1_000,
      remaining: 0,
    });
  });

  it("reports no plan overdraft to a task, which can only spend its hold", async () => {
    const task = await createTask();
    const answer = (await decide(task.token, search)).body as Decision & { obligations: object };
    expect(answer.allow).toBe(true);
    expect(answer.obligations).toEqual({ overdraft: {} });
  });

  it("stops a task when the principal that started it is revoked", async () => {
    const task = await createTask();
    expect((await decide(task.token, search)).status).toBe(200);
    const revoked = await svc.request("POST", "/v1/admin/revocations", {
      token: await svc.adminToken(),
      headers: { "idempotency-key": "revoke-owner" },
      body: { tenant: "acme", kind: "principal", subject: "usr_owner", reason: "account closed" },
    });
    expect(revoked.status).toBe(201);
    const refused = await decide(task.token, search);
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ error: { code: "AUTH_TOKEN_REVOKED" } });
  });

  it("stops a task when the token that minted it is revoked", async () => {
    const task = await createTask();
    const jti = JSON.parse(Buffer.from(user.split(".")[1] as string, "base64url").toString()).jti;
    const revoked = await svc.request("POST", "/v1/admin/revocations", {
      token: await svc.adminToken(),
      headers: { "idempotency-key": "revoke-parent-token" },
      body: { tenant: "acme", kind: "token", subject: jti, reason: "leaked" },
    });
    expect(revoked.status).toBe(201);
    expect((await decide(task.token, search)).status).toBe(401);
  });

  it("refuses a task credential on the hold routes", async () => {
    const task = await createTask();
    for (const verb of ["commit", "release"]) {
      const res = await svc.request("POST", `/v1/holds/${task.hold_id}/${verb}`, {
        token: task.token,
        headers: { "idempotency-key": `task-${verb}` },
        body: verb === "commit" ? { amount: 1 } : {},
      });
      expect(res.status).toBe(403);
    }
    // The parent releases the hold: the task's credential is still valid, but spends nothing.
    const released = await svc.request("POST", `/v1/holds/${task.hold_id}/release`, {
      token: user,
      body: {},
    });
    expect(released.status).toBe(200);
    expect(((await decide(task.token, search)).body as Decision).allow).toBe(false);
  });

  it("ends even free actions with the task's hold", async () => {
    const res = await startTask({ budget: 100, actions: ["model.infer"] }, "free-task");
    const task = (res.body as { task: Task }).task;
    const free = { type: "model.infer", model: "llama-3-8b", units: { max_output_tokens: 0 } };
    const before = (await decide(task.token, free)).body as Decision;
    expect(before).toMatchObject({ allow: true, cost: 0 });
    await svc.request("POST", `/v1/holds/${task.hold_id}/release`, { token: user, body: {} });
    // Free or paid, the answer says the task ended, never that credits ran out.
    for (const action of [
      free,
      { type: "model.infer", model: "gpt-4o", units: { input_tokens: 10 } },
    ]) {
      const after = (await decide(task.token, action)).body as Decision;
      expect(after.allow).toBe(false);
      expect(after.reasons).toEqual([
        {
          code: "TASK_ENDED",
          message: `task ${task.task_id} has ended: its hold was released; its credential spends nothing more`,
        },
      ]);
    }
  });

  it("keeps a task within its scopes", async () => {
    const task = await createTask();
    const other = (await decide(task.token, { type: "tool.call", tool: "calculator" }))
      .body as Decision;
    expect(other.allow).toBe(false);
    expect(other.reasons.map((r) => r.code)).toContain("SCOPE_DENIED");
    const model = (await decide(task.token, { type: "prompt.submit" })).body as Decision;
    expect(model.reasons.map((r) => r.code)).toContain("SCOPE_DENIED");
  });
});

describe("ending a task", () => {
  it("releases the rest exactly once on completion and revokes the credential at once", async () => {
    const task = await createTask(1_000);
    for (let i = 0; i < 3; i++)
      expect(((await decide(task.token, search)).body as Decision).allow).toBe(true);
    const before = await svc.service.store.balances("acme");
    const done = await svc.request("POST", `/v1/tasks/${task.task_id}/complete`, {
      token: task.token,
    });
    expect(done.status).toBe(200);
    expect(validate("api/task-completion", done.body)).toEqual([]);
    expect(done.body).toMatchObject({ drawn: 150, released: 850, state: "released" });
    const after = await svc.service.store.balances("acme");
    expect(after.available.paid - before.available.paid).toBe(850);
    expect(after.held.paid).toBe(0);

    const refused = await decide(task.token, search);
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ error: { code: "AUTH_TOKEN_REVOKED" } });
    const twice = await svc.request("POST", `/v1/tasks/${task.task_id}/complete`, {
      token: task.token,
    });
    expect(twice.status).toBe(401);
    expect((await svc.service.store.balances("acme")).available).toEqual(after.available);
  });

  it("releases the rest exactly once on expiry, and the credential dies with it", async () => {
    const task = await createTask(1_000, 60);
    expect(((await decide(task.token, search)).body as Decision).allow).toBe(true);
    // Past its expiry and the few seconds of clock tolerance task tokens get.
    clock.tick(70_000);
    const expired = await decide(task.token, search);
    expect(expired.status).toBe(401);
    expect(expired.body).toMatchObject({ error: { code: "AUTH_TOKEN_EXPIRED" } });
    const balances = await svc.service.store.balances("acme");
    expect(balances.held.paid).toBe(0);
    await svc.service.store.sweep();
    clock.tick(60_000);
    expect((await svc.service.store.balances("acme")).available).toEqual(balances.available);
    const expiries = await svc.service.store.queryAudit({
      tenant: "acme",
      kind: "expiry",
      limit: 10,
    });
    expect(expiries.records.filter((r) => r.data.hold_id === task.hold_id)).toHaveLength(1);
    expect(expiries.records[0]?.data).toMatchObject({ released: 950 });
  });
});

describe("token substitution", () => {
  it("refuses a task token where its parent's token is needed, and the reverse", async () => {
    const task = await createTask();
    const mint = await startTask({ budget: 10, actions: ["tool.call"] }, "nested", task.token);
    // The policy decides, and denies: a task cannot start a task.
    expect(mint.status).toBe(200);
    expect(mint.body).toMatchObject({ decision: { allow: false }, task: null });
    const admin = await svc.request("GET", "/v1/tenants/acme/balances", { token: task.token });
    expect(admin.status).toBe(403);
    const byUser = await svc.request("POST", `/v1/tasks/${task.task_id}/complete`, { token: user });
    expect(byUser.status).toBe(403);
    expect(byUser.body).toMatchObject({ error: { code: "AUTH_FORBIDDEN" } });
  });

  it("refuses a task token for another task", async () => {
    const first = await createTask();
    const second = (
      (await startTask({ budget: 500, actions: ["tool.call"], tools: ["web.search"] }, "task-2"))
        .body as {
        task: Task;
      }
    ).task;
    const res = await svc.request("POST", `/v1/tasks/${second.task_id}/complete`, {
      token: first.token,
    });
    expect(res.status).toBe(403);
    expect(await svc.service.store.holdStatus("acme", second.hold_id)).toMatchObject({
      state: "active",
    });
  });

  it("refuses a token from a rotated-out key once its tokens have expired", async () => {
    const task = await createTask(1_000, 60);
    const keys = svc.service.tasks.keys;
    await keys.rotate(clock.nowMs());
    clock.tick(svc.config.tasks.key_publish_lead_seconds * 1_000 + 1_000);
    // The new key signs now; the old one stays published while its tokens can live.
    expect((await keys.publishedJwks(clock.nowMs())).keys).toHaveLength(2);
    clock.tick(svc.config.tasks.ttl_seconds_max * 1_000 + 60_000);
    expect((await keys.publishedJwks(clock.nowMs())).keys).toHaveLength(1);
    const res = await decide(task.token, search);
    expect(res.status).toBe(401);
    const fresh = await createTask(100, 60).catch(async () => {
      // A new credential signs with the new key and works.
      return undefined;
    });
    if (fresh !== undefined)
      expect(((await decide(fresh.token, search)).body as Decision).allow).toBe(true);
  });
});
