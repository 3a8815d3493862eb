/**
 * An ended task (its hold committed, released, expired or missing) answers TASK_ENDED alone on
 * every decision, paid or free, dry run or not: never the INSUFFICIENT_CREDITS its zeroed
 * balances would give. The policy says so from principal.task_status; the engine holds any
 * policy to it. Virtual clock, real SQLite store, the committed bundle.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Pseudonyms } from "../../src/audit/pseudonym.js";
import { ManualClock } from "../../src/clock.js";
import { DecisionEngine, type PolicySource } from "../../src/decision/engine.js";
import { taskEndedReason } from "../../src/decision/task-ended.js";
import type { VerifiedPrincipal } from "../../src/identity/index.js";
import { readBundleFile } from "../../src/policy/bundle.js";
import { PolicyEvaluator } from "../../src/policy/evaluator.js";
import type { Action, DecisionInput, DecisionResult } from "../../src/policy/types.js";
import { SqliteLedgerStore } from "../../src/storage/sqlite/store.js";
import { committedBundlePath, devVerificationKey } from "../helpers/bundles.js";

const pseudonyms = new Pseudonyms(Buffer.alloc(32, 7));

const clock = new ManualClock(Date.UTC(2026, 10, 24, 12));
let dir: string;
let store: SqliteLedgerStore;
let evaluator: PolicyEvaluator;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "creditgate-task-ended-"));
  store = SqliteLedgerStore.open({ path: join(dir, "ledger.db"), clock });
  evaluator ??= await PolicyEvaluator.create(
    await readBundleFile(committedBundlePath, { verificationKey: await devVerificationKey() }),
  );
  const granted = await store.grant({
    tenant: "acme",
    key: "g1",
    class: "paid",
    amount: 10_000,
    source: "test",
  });
  expect(granted.ok).toBe(true);
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const paid: Action = { type: "prompt.submit" };
const free: Action = { type: "model.infer", model: "llama-3-8b", units: { max_output_tokens: 0 } };

async function startTask(): Promise<string> {
  const hold = await store.hold({
    tenant: "acme",
    key: `task-hold-${Math.random()}`,
    amount: 1_000,
    drawOrder: ["paid"],
    ttlMs: 60_000,
  });
  if (!hold.ok) throw new Error("hold refused");
  return hold.value.holdId;
}

function task(holdId: string | undefined): VerifiedPrincipal {
  return {
    kind: "task",
    id: "tsk_1",
    tenant: "acme",
    plan: "pro",
    roles: [],
    scopes: ["prompt.submit", "model.infer"],
    jti: "jti-task",
    expMs: clock.nowMs() + 3_600_000,
    issuer: "creditgate",
    tokenHash: "0".repeat(64),
    ...(holdId === undefined
      ? {}
      : {
          task: {
            id: "tsk_1",
            holdId,
            budget: 1_000,
            parent: { id: "usr_1", kind: "user", issuer: "i" },
          },
        }),
  };
}

function engine(policy: PolicySource = { current: evaluator }) {
  return new DecisionEngine({ policy, store, clock, holdTtlMs: 60_000, pseudonyms });
}

let keys = 0;
const decide = (who: VerifiedPrincipal, action: Action, e = engine()) =>
  e.decide({ principal: who, action, idempotencyKey: `k-${++keys}` });

const endings = {
  released: async (holdId: string) => {
    // What completing a task does to its hold: the rest goes back.
    expect((await store.release({ tenant: "acme", key: "end", holdId })).ok).toBe(true);
  },
  committed: async (holdId: string) => {
    expect((await store.commit({ tenant: "acme", key: "end", holdId, amount: 100 })).ok).toBe(true);
  },
  expired: async () => {
    clock.tick(61_000);
  },
} as const;

describe("an ended task", () => {
  it("spends while its hold is active", async () => {
    const holdId = await startTask();
    expect(await decide(task(holdId), paid)).toMatchObject({ allow: true, cost: 10 });
    expect(await decide(task(holdId), free)).toMatchObject({ allow: true, cost: 0 });
  });

  it.each(Object.keys(endings) as (keyof typeof endings)[])(
    "answers TASK_ENDED to paid and free decisions once its hold is %s",
    async (how) => {
      const holdId = await startTask();
      await endings[how](holdId);
      const reason = {
        code: "TASK_ENDED",
        message: expect.stringContaining(
          how === "expired" ? "its hold expired" : `its hold was ${how}`,
        ),
      };
      for (const action of [paid, free]) {
        const answer = await decide(task(holdId), action);
        expect(answer).toMatchObject({ allow: false, cost: 0, obligations: {} });
        expect(answer.reasons).toEqual([reason]);
      }
      const dry = await engine().decide({ principal: task(holdId), action: paid, dryRun: true });
      expect(dry.reasons).toEqual([reason]);
      const tenant = await store.balances("acme");
      expect(tenant.held.paid).toBe(0);
    },
  );

  it("answers TASK_ENDED when the task has no hold", async () => {
    const answer = await decide(task(undefined), paid);
    expect(answer.reasons).toEqual([taskEndedReason("tsk_1", "missing")]);
  });

  it("says what the policy says, word for word", async () => {
    const holdId = await startTask();
    await endings.released(holdId);
    const answer = await decide(task(holdId), paid);
    expect(answer.reasons).toEqual([taskEndedReason("tsk_1", "released")]);
  });

  it("tells the policy how the task ended, and holds a policy that ignores it to TASK_ENDED", async () => {
    const holdId = await startTask();
    await endings.released(holdId);
    const seen: DecisionInput[] = [];
    const careless: PolicySource = {
      current: Object.assign(Object.create(evaluator) as PolicyEvaluator, {
        evaluate: (input: DecisionInput): DecisionResult => {
          seen.push(input);
          return {
            allow: true,
            cost: 10,
            hold: 0,
            draw_order: ["paid"],
            obligations: {},
            reasons: [{ code: "PRICE_APPLIED", message: "prompt.submit: 10 flat" }],
          };
        },
      }),
    };
    const answer = await decide(task(holdId), paid, engine(careless));
    expect(seen[0]?.principal.task_status).toBe("released");
    expect(answer).toMatchObject({ allow: false, reasons: [{ code: "TASK_ENDED" }] });
    expect((await store.balances("acme")).available.paid).toBe(10_000);
  });

  it("answers TASK_ENDED when the hold ends between the decision's read and its draw", async () => {
    const holdId = await startTask();
    const racing = new Proxy(store, {
      get(target, property) {
        if (property === "drawHold") {
          return async (req: Parameters<typeof store.drawHold>[0]) => {
            await endings.released(holdId);
            return target.drawHold(req);
          };
        }
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const answer = await new DecisionEngine({
      policy: { current: evaluator },
      store: racing,
      clock,
      holdTtlMs: 60_000,
      pseudonyms,
    }).decide({ principal: task(holdId), action: paid, idempotencyKey: "race" });
    expect(answer.reasons).toEqual([taskEndedReason("tsk_1", "released")]);
  });
});

describe("a suspended tenant", () => {
  it("is denied TENANT_SUSPENDED even by a policy that ignores its status, and charged nothing", async () => {
    const careless: PolicySource = {
      current: Object.assign(Object.create(evaluator) as PolicyEvaluator, {
        evaluate: (): DecisionResult => ({
          allow: true,
          cost: 10,
          hold: 0,
          draw_order: ["paid"],
          obligations: {},
          reasons: [{ code: "PRICE_APPLIED", message: "prompt.submit: 10 flat" }],
        }),
      }),
    };
    const before = (await store.balances("acme")).available.paid;
    const suspended = await store.setTenantStatus({
      tenant: "acme",
      key: "suspend-careless",
      status: "suspended",
      reason: "test",
    });
    expect(suspended.ok).toBe(true);
    const user: VerifiedPrincipal = { ...task(undefined), kind: "user", id: "usr_2" };
    const answer = await decide(user, paid, engine(careless));
    expect(answer).toMatchObject({
      allow: false,
      reasons: [{ code: "TENANT_SUSPENDED" }],
      obligations: { hard_stop: true },
    });
    expect((await store.balances("acme")).available.paid).toBe(before);
  });
});
