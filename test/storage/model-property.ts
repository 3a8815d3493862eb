/**
 * Model-based property test: random sequences of grant / debit / hold / commit / release /
 * reverse / replay / conflicting reuse / clock ticks / sweeps run against a store and against
 * LedgerModel; after every step the codes, the values and the balances must agree, and at the
 * end the store's invariants must hold. The seed is printed on failure by fast-check.
 */
import fc from "fast-check";
import { expect, it } from "vitest";
import type { ManualClock } from "../../src/clock.js";
import type { OpResult } from "../../src/ledger/codes.js";
import type { LedgerStore } from "../../src/ledger/port.js";
import { type CreditClass, creditClasses } from "../../src/ledger/types.js";
import { expectLedgerInvariants } from "../helpers/ledger-invariants.js";
import { LedgerModel } from "../ledger/model.js";
import type { StoreUnderTest } from "./harness.js";

interface Model {
  readonly ledger: LedgerModel;
  readonly holdKeys: string[];
  /** Model hold key to the store's hold id. */
  readonly holdIds: Map<string, string>;
  readonly transferKeys: string[];
  readonly history: {
    key: string;
    issue: (store: LedgerStore, tenant: string) => Promise<OpResult<unknown>>;
  }[];
  next: number;
}
interface Real {
  readonly store: LedgerStore;
  readonly clock: ManualClock;
  readonly tenant: string;
}

type Cmd = fc.AsyncCommand<Model, Real>;

const order = fc.uniqueArray(fc.constantFrom<CreditClass>(...creditClasses), {
  minLength: 1,
  maxLength: 3,
});

async function expectBalances(m: Model, r: Real): Promise<void> {
  const b = await r.store.balances(r.tenant);
  m.ledger.mature(r.clock.nowMs());
  expect(b.available).toEqual(m.ledger.available());
  expect(b.held).toEqual(m.ledger.held());
}

/** Same code; on success, the store's value is remembered for replays. */
function settle(
  m: Model,
  key: string,
  fingerprint: string,
  got: OpResult<unknown>,
  code: string,
): void {
  expect(got.code).toBe(code);
  if (got.ok && got.code === "ok") m.ledger.done.set(key, { fingerprint, value: got.value });
}

function command(label: string, run: (m: Model, r: Real) => Promise<void>): Cmd {
  return { check: () => true, run, toString: () => label };
}

const grantCmd = fc
  .record({
    cls: fc.constantFrom<CreditClass>(...creditClasses),
    amount: fc.integer({ min: 1, max: 100 }),
    expiresInMs: fc.option(fc.integer({ min: 1, max: 300_000 }), { nil: undefined }),
    priority: fc.integer({ min: 0, max: 2 }),
  })
  .map((a) =>
    command(`grant(${JSON.stringify(a)})`, async (m, r) => {
      const key = `k${m.next++}`;
      const now = r.clock.nowMs();
      const req = {
        tenant: r.tenant,
        key,
        class: a.cls,
        amount: a.amount,
        source: "model",
        priority: a.priority,
        ...(a.expiresInMs ? { expiresAtMs: now + a.expiresInMs } : {}),
      };
      const got = await r.store.grant(req);
      m.ledger.mature(now);
      settle(m, key, JSON.stringify(["grant", req]), got, "ok");
      if (got.ok) {
        m.ledger.grants.push({
          grantId: got.value.grantId,
          class: a.cls,
          remaining: a.amount,
          expiresAtMs: req.expiresAtMs ?? null,
          priority: a.priority,
          effectiveAtMs: now,
          expired: false,
        });
        m.history.push({ key, issue: (s) => s.grant(req) });
      }
      await expectBalances(m, r);
    }),
  );

const debitCmd = fc.record({ amount: fc.integer({ min: 0, max: 120 }), order }).map((a) =>
  command(`debit(${JSON.stringify(a)})`, async (m, r) => {
    const key = `k${m.next++}`;
    const req = { tenant: r.tenant, key, amount: a.amount, drawOrder: a.order };
    const got = await r.store.debit(req);
    m.ledger.mature(r.clock.nowMs());
    if (a.amount === 0) return expect(got.code).toBe("amount_not_positive");
    const parts = m.ledger.draw(a.amount, a.order);
    settle(m, key, JSON.stringify(["debit", req]), got, parts ? "ok" : "insufficient_credits");
    if (got.ok && parts) {
      expect(got.value.parts).toEqual(parts);
      m.ledger.transfers.set(
        key,
        parts.map((part) => ({ part, reversed: 0 })),
      );
      m.transferKeys.push(key);
      m.history.push({ key, issue: (s) => s.debit(req) });
    }
    await expectBalances(m, r);
  }),
);

const holdCmd = fc
  .record({
    amount: fc.integer({ min: 1, max: 80 }),
    order,
    ttlMs: fc.integer({ min: 1, max: 180_000 }),
  })
  .map((a) =>
    command(`hold(${JSON.stringify(a)})`, async (m, r) => {
      const key = `k${m.next++}`;
      const req = { tenant: r.tenant, key, amount: a.amount, drawOrder: a.order, ttlMs: a.ttlMs };
      const got = await r.store.hold(req);
      const now = r.clock.nowMs();
      m.ledger.mature(now);
      const parts = m.ledger.draw(a.amount, a.order);
      settle(m, key, JSON.stringify(["hold", req]), got, parts ? "ok" : "insufficient_credits");
      if (got.ok && parts) {
        expect(got.value.parts).toEqual(parts);
        m.ledger.holds.set(key, {
          parts,
          amount: a.amount,
          drawOrder: a.order,
          expiresAtMs: now + a.ttlMs,
          state: "active",
        });
        m.holdKeys.push(key);
        m.holdIds.set(key, got.value.holdId);
        m.history.push({ key, issue: (s) => s.hold(req) });
      }
      await expectBalances(m, r);
    }),
  );

function holdId(m: Model, index: number): { modelKey: string; holdId: string } {
  if (m.holdKeys.length === 0) return { modelKey: "none", holdId: "hld_none" };
  const modelKey = m.holdKeys[index % m.holdKeys.length]!;
  return { modelKey, holdId: m.holdIds.get(modelKey)! };
}

const commitCmd = fc
  .record({
    index: fc.nat(),
    amount: fc.integer({ min: 0, max: 100 }),
    overage: fc.integer({ min: 0, max: 20 }),
  })
  .map((a) =>
    command(`commit(${JSON.stringify(a)})`, async (m, r) => {
      const key = `k${m.next++}`;
      const target = holdId(m, a.index);
      const req = {
        tenant: r.tenant,
        key,
        holdId: target.holdId,
        amount: a.amount,
        overageAllowance: a.overage,
      };
      const got = await r.store.commit(req);
      const now = r.clock.nowMs();
      m.ledger.mature(now);
      const want = m.ledger.commit(target.modelKey, a.amount, a.overage, now);
      settle(m, key, JSON.stringify(["commit", req]), got, want.code);
      if (got.ok && want.parts) {
        expect(got.value.parts).toEqual(want.parts);
        m.ledger.transfers.set(
          key,
          want.parts.map((part) => ({ part, reversed: 0 })),
        );
        if (want.parts.length > 0) m.transferKeys.push(key);
        m.history.push({ key, issue: (s) => s.commit(req) });
      }
      await expectBalances(m, r);
    }),
  );

const releaseCmd = fc.nat().map((index) =>
  command(`release(${index})`, async (m, r) => {
    const key = `k${m.next++}`;
    const target = holdId(m, index);
    const got = await r.store.release({ tenant: r.tenant, key, holdId: target.holdId });
    const now = r.clock.nowMs();
    m.ledger.mature(now);
    const hold = m.ledger.holds.get(target.modelKey);
    let code = "ok";
    if (!hold) code = "hold_not_found";
    else if (hold.state !== "active") {
      code = {
        expired: "hold_expired",
        committed: "hold_already_committed",
        released: "hold_released",
      }[hold.state];
    } else {
      hold.state = "released";
      for (const p of hold.parts) m.ledger.giveBack(p, now);
    }
    settle(m, key, "release", got, code);
    await expectBalances(m, r);
  }),
);

const reverseCmd = fc
  .record({
    index: fc.nat(),
    amount: fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined }),
  })
  .map((a) =>
    command(`reverse(${JSON.stringify(a)})`, async (m, r) => {
      const key = `k${m.next++}`;
      const target =
        m.transferKeys.length === 0 ? "none" : m.transferKeys[a.index % m.transferKeys.length]!;
      const original = m.ledger.done.get(target)?.value as { transferId?: string } | undefined;
      const req = {
        tenant: r.tenant,
        key,
        transferId: original?.transferId ?? "ent_none",
        reason: "model",
        ...(a.amount !== undefined ? { amount: a.amount } : {}),
      };
      const got = await r.store.reverse(req);
      const now = r.clock.nowMs();
      m.ledger.mature(now);
      const want = m.ledger.reverse(target, a.amount, now);
      settle(m, key, "reverse", got, want.code);
      if (got.ok && want.parts) expect(got.value.parts).toEqual(want.parts);
      await expectBalances(m, r);
    }),
  );

const replayCmd = fc.nat().map((index) =>
  command(`replay(${index})`, async (m, r) => {
    if (m.history.length === 0) return;
    const { key, issue } = m.history[index % m.history.length]!;
    const got = await issue(r.store, r.tenant);
    expect(got).toEqual({ ok: true, code: "exists", value: m.ledger.done.get(key)!.value });
    await expectBalances(m, r);
  }),
);

const conflictCmd = fc.nat().map((index) =>
  command(`conflict(${index})`, async (m, r) => {
    if (m.history.length === 0) return;
    const { key } = m.history[index % m.history.length]!;
    const got = await r.store.debit({
      tenant: r.tenant,
      key,
      amount: 987_654,
      drawOrder: ["paid"],
    });
    expect(got).toEqual({ ok: false, code: "exists_with_different_request" });
  }),
);

const tickCmd = fc.integer({ min: 1, max: 120_000 }).map((ms) =>
  command(`tick(${ms})`, async (m, r) => {
    r.clock.tick(ms);
    await expectBalances(m, r);
  }),
);

const sweepCmd = fc.constant(
  command("sweep", async (m, r) => {
    await r.store.sweep();
    await expectBalances(m, r);
  }),
);

export function modelPropertyTest(
  open: () => Promise<{ sut: StoreUnderTest; clock: ManualClock }>,
  numRuns: number,
): void {
  it(`agrees with the in-memory model (${numRuns} runs)`, async () => {
    const { sut, clock } = await open();
    let run = 0;
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.commands(
            [
              grantCmd,
              grantCmd,
              debitCmd,
              debitCmd,
              holdCmd,
              commitCmd,
              releaseCmd,
              reverseCmd,
              replayCmd,
              conflictCmd,
              tickCmd,
              sweepCmd,
            ],
            { maxCommands: 40 },
          ),
          async (cmds) => {
            const tenant = `model-${run++}`;
            const model: Model = {
              ledger: new LedgerModel(),
              holdKeys: [],
              holdIds: new Map(),
              transferKeys: [],
              history: [],
              next: 0,
            };
            await fc.asyncModelRun(
              () => ({ model, real: { store: sut.store, clock, tenant } }),
              cmds,
            );
          },
        ),
        { numRuns },
      );
      await expectLedgerInvariants(sut);
    } finally {
      await sut.close();
    }
  });
}
