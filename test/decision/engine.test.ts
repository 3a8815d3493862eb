/**
 * The decision flow on a virtual clock with a real SQLite store and the committed bundle:
 * what each kind of decision writes, identical replays for every shape of decision, conflicts,
 * fail-closed policy errors, and the ledger overruling the policy when the balance moved.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Pseudonyms } from "../../src/audit/pseudonym.js";
import { ManualClock } from "../../src/clock.js";
import { DecisionEngine, type PolicySource } from "../../src/decision/engine.js";
import type { DecideRequest } from "../../src/decision/types.js";
import { CreditgateError } from "../../src/errors.js";
import type { VerifiedPrincipal } from "../../src/identity/index.js";
import type { LedgerStore } from "../../src/ledger/port.js";
import type { CreditClass } from "../../src/ledger/types.js";
import { readBundleFile } from "../../src/policy/bundle.js";
import { PolicyEvaluator } from "../../src/policy/evaluator.js";
import type { Action } from "../../src/policy/types.js";
import { SqliteLedgerStore } from "../../src/storage/sqlite/store.js";
import { committedBundlePath, devVerificationKey } from "../helpers/bundles.js";

const clock = new ManualClock(Date.UTC(2026, 10, 24, 12));
const pseudonyms = new Pseudonyms(Buffer.alloc(32, 7));
let dir: string;
let store: SqliteLedgerStore;
let evaluator: PolicyEvaluator;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "creditgate-engine-"));
  store = SqliteLedgerStore.open({ path: join(dir, "ledger.db"), clock });
  evaluator ??= await PolicyEvaluator.create(
    await readBundleFile(committedBundlePath, { verificationKey: await devVerificationKey() }),
  );
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

function principal(overrides: Partial<VerifiedPrincipal> = {}): VerifiedPrincipal {
  return {
    kind: "user",
    id: "usr_1",
    tenant: "acme",
    plan: "pro",
    roles: [],
    scopes: [],
    jti: "jti-1",
    expMs: clock.nowMs() + 3_600_000,
    issuer: "https://idp.example.com",
    tokenHash: "0".repeat(64),
    ...overrides,
  };
}

function engineOn(ledger: LedgerStore, policy: PolicySource = { current: evaluator }) {
  return new DecisionEngine({ policy, store: ledger, clock, holdTtlMs: 60_000, pseudonyms });
}

async function grant(cls: CreditClass, amount: number, tenant = "acme"): Promise<void> {
  const result = await store.grant({
    tenant,
    key: `g-${cls}-${amount}-${Math.random()}`,
    class: cls,
    amount,
    source: "test",
  });
  expect(result.ok).toBe(true);
}

const request = (action: Action, key: string, who = principal()): DecideRequest => ({
  principal: who,
  action,
  idempotencyKey: key,
});

async function auditCount(): Promise<number> {
  return (await store.queryAudit({ limit: 1000 })).records.length;
}

/** The real store with some operations preceded by something else (a racing spender). */
function intercept(ledger: LedgerStore, overrides: Partial<LedgerStore>): LedgerStore {
  return new Proxy(ledger, {
    get(target, property) {
      const own = (overrides as Record<PropertyKey, unknown>)[property];
      if (own !== undefined) return own;
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

const agentTask: Action = { type: "agent.task", task_id: "t-1", units: { budget: 5_000 } };
const infer: Action = {
  type: "model.infer",
  model: "gpt-4o-mini",
  units: { input_tokens: 1_000, max_output_tokens: 1_000 },
};

describe("what a decision writes", () => {
  it("debits a flat price and reports the balances after it", async () => {
    await grant("paid", 1_000);
    const answer = await engineOn(store).decide(request({ type: "prompt.submit" }, "k1"));
    expect(answer).toMatchObject({ allow: true, cost: 10, balances: { paid: 990 } });
    expect(answer.hold_id).toBeUndefined();
    expect((await store.balances("acme")).available.paid).toBe(990);
  });

  it("holds a model call's estimate without debiting", async () => {
    await grant("paid", 1_000);
    const answer = await engineOn(store).decide(request(infer, "k1"));
    expect(answer.allow).toBe(true);
    expect(answer.hold_id).toMatch(/^hld_/);
    const balances = await store.balances("acme");
    expect(balances.posted.paid).toBe(1_000);
    expect(balances.held.paid).toBe(answer.hold);
    expect(answer.balances.paid).toBe(1_000 - (answer.hold as number));
  });

  it("debits an agent task's fee and holds its budget", async () => {
    await grant("paid", 10_000);
    const answer = await engineOn(store).decide(request(agentTask, "k1"));
    expect(answer).toMatchObject({ allow: true, cost: 500, hold: 5_000 });
    const balances = await store.balances("acme");
    expect(balances.posted.paid).toBe(9_500);
    expect(balances.held.paid).toBe(5_000);
    expect(answer.balances.paid).toBe(4_500);
  });

  it("records a deny as one audit record and no ledger change", async () => {
    await grant("paid", 1_000);
    const before = await store.balances("acme");
    const answer = await engineOn(store).decide(request({ type: "no.such" }, "k1"));
    expect(answer.allow).toBe(false);
    expect(answer.reasons.map((r) => r.code)).toEqual(["UNKNOWN_ACTION"]);
    expect((await store.balances("acme")).posted).toEqual(before.posted);
    const [record] = (await store.queryAudit({ kind: "decision", limit: 10 })).records;
    expect(record?.data.context).toMatchObject({ allow: false, decision_id: answer.decision_id });
  });

  it("quotes a dry run without writing anything", async () => {
    await grant("paid", 1_000);
    const before = await auditCount();
    const answer = await engineOn(store).decide({
      principal: principal(),
      action: { type: "prompt.submit" },
      dryRun: true,
    });
    expect(answer).toMatchObject({
      allow: true,
      cost: 10,
      dry_run: true,
      balances: { paid: 1_000 },
    });
    expect(await auditCount()).toBe(before);
  });

  it("refuses an enforcing call without an idempotency key", async () => {
    await expect(
      engineOn(store).decide({ principal: principal(), action: { type: "prompt.submit" } }),
    ).rejects.toMatchObject({ code: "IDEMPOTENCY_KEY_MISSING" });
  });
});

describe("replays", () => {
  it.each([
    ["a debit", { type: "prompt.submit" } as Action],
    ["a hold", infer],
    ["a fee and a hold", agentTask],
    ["a deny", { type: "no.such" } as Action],
  ])(
    "answers a retried key of %s with the identical response and no new effect",
    async (_n, action) => {
      await grant("paid", 100_000);
      const engine = engineOn(store);
      const first = await engine.decide(request(action, "retry"));
      const balances = await store.balances("acme");
      const records = await auditCount();
      clock.tick(1_000);
      const again = await engine.decide(request(action, "retry"));
      expect(again).toEqual(first);
      expect(await store.balances("acme")).toMatchObject({
        posted: balances.posted,
        held: balances.held,
      });
      expect(await auditCount()).toBe(records);
    },
  );

  it("replays a deny even after the balance would now allow it", async () => {
    const engine = engineOn(store);
    const denied = await engine.decide(
      request({ type: "prompt.submit" }, "k", principal({ plan: "trial" })),
    );
    expect(denied.allow).toBe(false);
    await grant("trial", 1_000);
    expect(
      await engine.decide(request({ type: "prompt.submit" }, "k", principal({ plan: "trial" }))),
    ).toEqual(denied);
  });

  it("replays an allow even after the balance is spent", async () => {
    await grant("trial", 10);
    const engine = engineOn(store);
    const who = principal({ plan: "trial" });
    const allowed = await engine.decide(request({ type: "prompt.submit" }, "k", who));
    expect(allowed.allow).toBe(true);
    expect((await engine.decide(request({ type: "prompt.submit" }, "other", who))).allow).toBe(
      false,
    );
    expect(await engine.decide(request({ type: "prompt.submit" }, "k", who))).toEqual(allowed);
  });

  it("refuses a key reused for another action or principal", async () => {
    await grant("paid", 1_000);
    const engine = engineOn(store);
    await engine.decide(request({ type: "prompt.submit" }, "k"));
    await expect(
      engine.decide(request({ type: "tool.call", tool: "calculator" }, "k")),
    ).rejects.toMatchObject({
      code: "IDEMPOTENCY_CONFLICT",
    });
    await expect(
      engine.decide(request({ type: "prompt.submit" }, "k", principal({ id: "usr_2" }))),
    ).rejects.toMatchObject({ code: "IDEMPOTENCY_CONFLICT" });
  });

  it("refuses a key already used for a ledger operation that was not a decision", async () => {
    await store.grant({
      tenant: "acme",
      key: "shared",
      class: "paid",
      amount: 100,
      source: "test",
    });
    await expect(
      engineOn(store).decide(request({ type: "prompt.submit" }, "shared")),
    ).rejects.toMatchObject({
      code: "IDEMPOTENCY_CONFLICT",
      details: { reason: "different_operation" },
    });
  });

  it("gives concurrent requests with one key one effect and one answer", async () => {
    await grant("paid", 1_000);
    const engine = engineOn(store);
    const answers = await Promise.allSettled(
      Array.from({ length: 10 }, () => engine.decide(request({ type: "prompt.submit" }, "same"))),
    );
    const fulfilled = answers.flatMap((a) => (a.status === "fulfilled" ? [a.value] : []));
    expect(fulfilled.length).toBeGreaterThan(0);
    for (const answer of fulfilled) expect(answer).toEqual(fulfilled[0]);
    for (const a of answers) {
      if (a.status === "rejected")
        expect(a.reason).toMatchObject({ code: "IDEMPOTENCY_IN_PROGRESS" });
    }
    expect((await store.balances("acme")).posted.paid).toBe(990);
  });
});

describe("failures", () => {
  it("fails closed with the policy's error code and records the deny", async () => {
    await grant("paid", 1_000);
    const broken: PolicySource = {
      current: Object.assign(Object.create(evaluator) as PolicyEvaluator, {
        evaluate: () => {
          throw new CreditgateError("POLICY_EVAL_FAILED", { message: "boom" });
        },
      }),
    };
    const answer = await engineOn(store, broken).decide(request({ type: "prompt.submit" }, "k"));
    expect(answer).toMatchObject({
      allow: false,
      cost: 0,
      reasons: [{ code: "POLICY_EVAL_FAILED" }],
    });
    expect((await store.balances("acme")).posted.paid).toBe(1_000);
    expect((await store.queryAudit({ kind: "decision", limit: 5 })).records).toHaveLength(1);
  });

  it("denies with INSUFFICIENT_CREDITS when the balance moves between evaluation and debit", async () => {
    await grant("trial", 10);
    // Another spender takes the credits after this decision read its snapshot.
    const racing = intercept(store, {
      debit: async (req) => {
        await store.debit({ tenant: "acme", key: "thief", amount: 10, drawOrder: ["trial"] });
        return store.debit(req);
      },
    });
    const who = principal({ plan: "trial" });
    const answer = await engineOn(racing).decide(request({ type: "prompt.submit" }, "k", who));
    expect(answer).toMatchObject({ allow: false, reasons: [{ code: "INSUFFICIENT_CREDITS" }] });
    expect(await engineOn(store).decide(request({ type: "prompt.submit" }, "k", who))).toEqual(
      answer,
    );
  });

  it("denies a task with TASK_BUDGET_EXCEEDED when a concurrent draw took its budget first", async () => {
    await grant("paid", 1_000);
    const hold = await store.hold({
      tenant: "acme",
      key: "task-hold",
      amount: 50,
      drawOrder: ["paid"],
      ttlMs: 60_000,
    });
    if (!hold.ok) throw new Error("hold refused");
    const holdId = hold.value.holdId;
    const task = principal({
      kind: "task",
      id: "tsk_1",
      scopes: ["prompt.submit"],
      task: { id: "tsk_1", holdId, budget: 50, parent: { id: "usr_1", kind: "user", issuer: "i" } },
    });
    // Another decision of the same task draws after this one read what was left.
    const racing = intercept(store, {
      drawHold: async (req) => {
        await store.drawHold({ tenant: "acme", key: "other", holdId, amount: 45 });
        return store.drawHold(req);
      },
    });
    const answer = await engineOn(racing).decide(request({ type: "prompt.submit" }, "k", task));
    expect(answer).toMatchObject({ allow: false, reasons: [{ code: "TASK_BUDGET_EXCEEDED" }] });
    expect(await store.holdStatus("acme", holdId)).toMatchObject({ drawn: 45, remaining: 5 });
  });

  it("charges neither an agent task's fee nor its hold when the pair does not fit, and replays the deny", async () => {
    await grant("paid", 5_500);
    const racing = intercept(store, {
      hold: async (req) => {
        // Down to the pro plan's overdraft floor, so the hold cannot fit.
        await store.debit({
          tenant: "acme",
          key: "thief",
          amount: 55_000,
          drawOrder: ["paid"],
          floors: { paid: -50_000 },
        });
        return store.hold(req);
      },
    });
    const task = { ...agentTask, units: { budget: 5_000 } };
    const answer = await engineOn(racing).decide(request(task, "k"));
    expect(answer).toMatchObject({ allow: false, reasons: [{ code: "INSUFFICIENT_CREDITS" }] });
    // Only the thief's 55,000 left the balance: fee and hold apply together or not at all.
    expect((await store.balances("acme")).posted.paid).toBe(5_500 - 55_000);
    expect(await engineOn(store).decide(request(task, "k"))).toEqual(answer);
    expect(await store.checkInvariants()).toMatchObject({ ok: true });
  });
});
