/**
 * Hold ownership over HTTP: a hold is settled only by the principal whose decision placed it.
 * Anyone else of the tenant (another user, the same id under another kind) gets the 404 an
 * unknown hold gets, and the hold is untouched; a task's hold is its parent's.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.js";
import { principalKey } from "../../src/decision/owner.js";
import { devIssuer, mintDevToken } from "../../src/identity/index.js";
import { decisionHeaders, startTestService, type TestService } from "../helpers/service.js";

let clock: ManualClock;
let svc: TestService;
let alice: string;
let bob: string;

beforeEach(async () => {
  clock = new ManualClock(Date.UTC(2026, 10, 24, 12));
  svc = await startTestService({ clock });
  await svc.grant("acme", "paid", 100_000);
  alice = await svc.userToken({ sub: "usr_alice", plan: "pro" });
  bob = await svc.userToken({ sub: "usr_bob", plan: "pro" });
});
afterEach(async () => {
  await svc?.close();
});

const notFound = {
  error: { code: "NOT_FOUND", message: "no such hold", details: { ledger_code: "hold_not_found" } },
};

async function infer(token: string, key: string): Promise<{ hold_id: string; hold: number }> {
  const res = await svc.request("POST", "/v1/decisions", {
    token,
    headers: decisionHeaders(key),
    body: {
      action: {
        type: "model.infer",
        model: "gpt-4o-mini",
        units: { input_tokens: 2_000, max_output_tokens: 1_000 },
      },
    },
  });
  expect(res.status).toBe(200);
  const body = res.body as { allow: boolean; hold_id: string; hold: number };
  expect(body.allow).toBe(true);
  return body;
}

const commit = (token: string, holdId: string, key: string, amount: number) =>
  svc.request("POST", `/v1/holds/${holdId}/commit`, {
    token,
    headers: { "idempotency-key": key },
    body: { amount },
  });
const release = (token: string, holdId: string, key?: string) =>
  svc.request("POST", `/v1/holds/${holdId}/release`, {
    token,
    ...(key === undefined ? {} : { headers: { "idempotency-key": key } }),
    body: {},
  });

describe("hold ownership", () => {
  it("records the deciding principal as the owner", async () => {
    const held = await infer(alice, "infer-a");
    expect(await svc.service.store.holdStatus("acme", held.hold_id)).toMatchObject({
      owner: svc.service.engine.ownerKey({
        kind: "user",
        issuer: devIssuer.issuer,
        id: "usr_alice",
      }),
      state: "active",
    });
    // A keyed pseudonym: the holds table does not name the principal.
    const status = await svc.service.store.holdStatus("acme", held.hold_id);
    expect(status?.owner).toMatch(/^p:/);
    expect(status?.owner).not.toContain("usr_alice");
  });

  it("lets the owner settle a hold placed before owners were pseudonyms, and nobody else", async () => {
    const placed = await svc.service.store.hold({
      tenant: "acme",
      key: "legacy-hold",
      amount: 100,
      drawOrder: ["paid"],
      ttlMs: 60_000,
      owner: principalKey({ kind: "user", issuer: devIssuer.issuer, id: "usr_alice" }),
    });
    if (!placed.ok) throw new Error(placed.code);
    expect((await commit(bob, placed.value.holdId, "legacy-b", 10)).body).toEqual(notFound);
    const done = await commit(alice, placed.value.holdId, "legacy-a", 10);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ committed: 10, released: 90 });
  });

  it("answers 404 to another user's commit and release, changes nothing, and lets the owner settle", async () => {
    const held = await infer(alice, "infer-a");
    const before = await svc.service.store.balances("acme");
    for (const res of [
      await commit(bob, held.hold_id, "commit-b", 1),
      await release(bob, held.hold_id),
      await release(bob, held.hold_id, "release-b"),
    ]) {
      expect(res.status).toBe(404);
      // The same answer as a hold that does not exist: nothing about Alice's hold leaks.
      expect(res.body).toEqual(notFound);
    }
    expect((await release(bob, "hld_unknown")).body).toEqual(notFound);
    // The same id under another kind is another principal.
    const workload = await mintDevToken(
      { sub: "usr_alice", tenant: "acme", plan: "pro", kind: "workload" },
      clock,
    );
    expect((await release(workload, held.hold_id)).status).toBe(404);
    expect(await svc.service.store.holdStatus("acme", held.hold_id)).toMatchObject({
      state: "active",
      remaining: held.hold,
    });
    expect(await svc.service.store.balances("acme")).toMatchObject({
      posted: before.posted,
      held: before.held,
    });

    const done = await commit(alice, held.hold_id, "commit-a", 40);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ committed: 40, released: held.hold - 40 });
    // A retry by the owner replays; the other user still learns nothing.
    expect((await commit(alice, held.hold_id, "commit-a", 40)).text).toBe(done.text);
    expect((await commit(bob, held.hold_id, "commit-b", 1)).body).toEqual(notFound);

    const second = await infer(alice, "infer-a2");
    expect((await release(bob, second.hold_id, "release-b2")).status).toBe(404);
    const released = await release(alice, second.hold_id);
    expect(released.status).toBe(200);
    expect(released.body).toMatchObject({ released: second.hold });
    expect((await svc.service.store.balances("acme")).held.paid).toBe(0);
  });

  it("keeps a task's hold to its parent: another user gets 404, completion releases the rest", async () => {
    const started = await svc.request("POST", "/v1/tasks", {
      token: alice,
      headers: { "idempotency-key": "task-1" },
      body: { budget: 1_000, ttl_seconds: 300, actions: ["tool.call"], tools: ["web.search"] },
    });
    expect(started.status).toBe(200);
    const task = (started.body as { task: { task_id: string; hold_id: string; token: string } })
      .task;
    expect((await release(bob, task.hold_id)).body).toEqual(notFound);
    const draw = await svc.request("POST", "/v1/decisions", {
      token: task.token,
      headers: decisionHeaders(),
      body: { action: { type: "tool.call", tool: "web.search" } },
    });
    expect((draw.body as { allow: boolean }).allow).toBe(true);
    const done = await svc.request("POST", `/v1/tasks/${task.task_id}/complete`, {
      token: task.token,
      body: {},
    });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ state: "released" });
    const { drawn, released } = done.body as { drawn: number; released: number };
    expect(drawn).toBeGreaterThan(0);
    expect(drawn + released).toBe(1_000);
    expect((await svc.service.store.balances("acme")).held.paid).toBe(0);
  });
});
