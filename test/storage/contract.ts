/**
 * The store contract: one suite, run against every store, so the stores cannot drift. Each test
 * ends with the ledger invariants (balances equal entries, floors hold, chain verifies, and no
 * earlier entry or audit record changed).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseJsonLines } from "../../src/audit/export.js";
import { verifyChain } from "../../src/audit/verify.js";
import { ManualClock } from "../../src/clock.js";
import type { OpResult } from "../../src/ledger/codes.js";
import type { LedgerStore } from "../../src/ledger/port.js";
import {
  expectLedgerInvariants,
  type HistoryDigest,
  historyDigest,
} from "../helpers/ledger-invariants.js";
import { parseScenarios, runScenario } from "../ledger/scenario-script.js";
import { scenarioText } from "../ledger/scenarios.js";
import type { StoreFactory, StoreUnderTest } from "./harness.js";

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;

export function value<V>(result: OpResult<V>): V {
  if (!result.ok) throw new Error(`expected ok, got ${result.code}`);
  return result.value;
}

export function describeStoreContract(factory: StoreFactory): void {
  describe(`${factory.name} store contract`, () => {
    let clock: ManualClock;
    let sut: StoreUnderTest;
    let store: LedgerStore;
    let before: HistoryDigest;
    let floor = 0;

    beforeEach(async () => {
      clock = new ManualClock(T0);
      sut = await factory.open(clock);
      store = sut.store;
      before = await historyDigest(sut);
      floor = 0;
    });

    afterEach(async () => {
      await expectLedgerInvariants(sut, { floor, before });
      await sut.close();
    });

    const fund = (tenant: string, amount: number, extra: Record<string, unknown> = {}) =>
      store.grant({
        tenant,
        key: `fund-${tenant}-${amount}-${JSON.stringify(extra)}`,
        class: "paid",
        amount,
        source: "test",
        ...extra,
      });

    it("records its schema version and starts with an empty verified chain", async () => {
      expect(await store.schemaVersion()).toBe(1);
      expect(await store.verifyAudit()).toMatchObject({ ok: true, count: 0 });
    });

    it("grants and reports available per class", async () => {
      value(await fund("t1", 100));
      value(
        await store.grant({ tenant: "t1", key: "g2", class: "promo", amount: 30, source: "test" }),
      );
      const b = await store.balances("t1");
      expect(b.available).toEqual({ trial: 0, paid: 100, promo: 30, admin: 0 });
      expect(await store.balances("nobody")).toMatchObject({
        available: { trial: 0, paid: 0, promo: 0, admin: 0 },
      });
    });

    it("debits across classes in draw order, grants by priority, then soonest expiry, then oldest", async () => {
      const late = value(
        await store.grant({
          tenant: "t",
          key: "a",
          class: "paid",
          amount: 10,
          source: "s",
          expiresAtMs: T0 + 10 * MIN,
        }),
      );
      clock.tick(1);
      const soon = value(
        await store.grant({
          tenant: "t",
          key: "b",
          class: "paid",
          amount: 10,
          source: "s",
          expiresAtMs: T0 + 5 * MIN,
        }),
      );
      const old = value(
        await store.grant({
          tenant: "t",
          key: "c",
          class: "paid",
          amount: 10,
          source: "s",
          priority: 1,
        }),
      );
      const first = value(
        await store.grant({
          tenant: "t",
          key: "d",
          class: "paid",
          amount: 10,
          source: "s",
          priority: 1,
        }),
      );
      const promo = value(
        await store.grant({ tenant: "t", key: "e", class: "promo", amount: 5, source: "s" }),
      );
      const d = value(
        await store.debit({ tenant: "t", key: "d1", amount: 38, drawOrder: ["promo", "paid"] }),
      );
      // Same priority and no expiry: the older grant (smaller time-sorted id) pays first.
      const [older, newer] = [old.grantId, first.grantId].sort();
      expect(d.parts).toEqual([
        { class: "promo", grantId: promo.grantId, amount: 5 },
        { class: "paid", grantId: soon.grantId, amount: 10 },
        { class: "paid", grantId: late.grantId, amount: 10 },
        {
          class: "paid",
          grantId: older,
          amount: 10,
        },
        {
          class: "paid",
          grantId: newer,
          amount: 3,
        },
      ]);
      const entries = await sut.raw(
        `SELECT grant_id FROM entries WHERE transfer_id = '${d.transferId}'`,
      );
      expect(entries).toHaveLength(5);
      expect((await store.balances("t")).available).toMatchObject({ paid: 7, promo: 0 });
    });

    it("refuses a debit it cannot pay in full and changes nothing", async () => {
      value(await fund("t", 10));
      const r = await store.debit({ tenant: "t", key: "k", amount: 11, drawOrder: ["paid"] });
      expect(r).toEqual({ ok: false, code: "insufficient_credits" });
      expect((await store.balances("t")).available.paid).toBe(10);
      expect(
        await store.debit({ tenant: "t", key: "k", amount: 10, drawOrder: ["trial"] }),
      ).toMatchObject({ code: "insufficient_credits" });
      // A refused key is not consumed: the same key may succeed once credit exists.
      expect(
        await store.debit({ tenant: "t", key: "k", amount: 10, drawOrder: ["paid"] }),
      ).toMatchObject({ code: "ok" });
    });

    it("goes below zero only down to a floor passed in, and only after the listed classes are spent", async () => {
      floor = -50;
      value(await fund("t", 10));
      value(await store.grant({ tenant: "t", key: "p", class: "promo", amount: 5, source: "s" }));
      expect(
        await store.debit({ tenant: "t", key: "no", amount: 20, drawOrder: ["paid", "promo"] }),
      ).toMatchObject({ code: "insufficient_credits" });
      const d = value(
        await store.debit({
          tenant: "t",
          key: "od",
          amount: 60,
          drawOrder: ["paid", "promo"],
          floors: { paid: -50 },
        }),
      );
      expect(d.parts.map((p) => [p.class, p.grantId === null, p.amount])).toEqual([
        ["paid", false, 10],
        ["promo", false, 5],
        ["paid", true, 45],
      ]);
      expect((await store.balances("t")).available).toMatchObject({ paid: -45, promo: 0 });
      expect(
        await store.debit({
          tenant: "t",
          key: "od2",
          amount: 6,
          drawOrder: ["paid"],
          floors: { paid: -50 },
        }),
      ).toMatchObject({ code: "insufficient_credits" });
      expect(
        await store.debit({
          tenant: "t",
          key: "bad",
          amount: 1,
          drawOrder: ["paid"],
          floors: { paid: 5 },
        }),
      ).toMatchObject({ code: "floor_invalid" });
    });

    it("answers validation codes and throws TypeError for programmer errors", async () => {
      expect(
        await store.debit({ tenant: "t", key: "a", amount: 0, drawOrder: ["paid"] }),
      ).toMatchObject({ code: "amount_not_positive" });
      expect(await store.debit({ tenant: "t", key: "a", amount: 1, drawOrder: [] })).toMatchObject({
        code: "draw_order_invalid",
      });
      expect(
        await store.debit({ tenant: "t", key: "a", amount: 1, drawOrder: ["paid", "paid"] }),
      ).toMatchObject({ code: "draw_order_invalid" });
      expect(
        await store.hold({ tenant: "t", key: "a", amount: 1, drawOrder: ["paid"], ttlMs: 0 }),
      ).toMatchObject({ code: "ttl_out_of_range" });
      expect(
        await store.grant({
          tenant: "t",
          key: "a",
          class: "paid",
          amount: 1,
          source: "s",
          expiresAtMs: T0,
        }),
      ).toMatchObject({ code: "expires_in_past" });
      expect(
        await store.grant({
          tenant: "t",
          key: "a",
          class: "paid",
          amount: 1,
          source: "s",
          effectiveAtMs: T0 + MIN,
          expiresAtMs: T0 + MIN,
        }),
      ).toMatchObject({ code: "expires_not_after_effective" });
      await expect(
        store.debit({ tenant: "t", key: "a", amount: 1.5, drawOrder: ["paid"] }),
      ).rejects.toThrow(TypeError);
      await expect(
        store.grant({ tenant: "t", key: "a", class: "gold" as "paid", amount: 1, source: "s" }),
      ).rejects.toThrow(TypeError);
    });

    describe("idempotency", () => {
      it("returns the original result for the same key, even after the balance was spent", async () => {
        value(await fund("t", 10));
        const first = await store.debit({
          tenant: "t",
          key: "once",
          amount: 10,
          drawOrder: ["paid"],
        });
        expect(first.code).toBe("ok");
        const again = await store.debit({
          tenant: "t",
          key: "once",
          amount: 10,
          drawOrder: ["paid"],
        });
        expect(again).toEqual({ ...first, code: "exists" });
        expect((await store.balances("t")).available.paid).toBe(0);
      });

      it("answers a conflict for the same key with a different request, and keys are per tenant", async () => {
        value(await fund("t", 10));
        value(await fund("u", 10));
        value(await store.debit({ tenant: "t", key: "k", amount: 3, drawOrder: ["paid"] }));
        expect(
          await store.debit({ tenant: "t", key: "k", amount: 4, drawOrder: ["paid"] }),
        ).toEqual({ ok: false, code: "exists_with_different_request" });
        expect(
          await store.hold({ tenant: "t", key: "k", amount: 3, drawOrder: ["paid"], ttlMs: MIN }),
        ).toEqual({ ok: false, code: "exists_with_different_request" });
        expect(
          (await store.debit({ tenant: "u", key: "k", amount: 4, drawOrder: ["paid"] })).code,
        ).toBe("ok");
      });

      it("applies N concurrent duplicates exactly once", async () => {
        value(await fund("t", 1_000));
        const results = await Promise.all(
          Array.from({ length: 40 }, () =>
            store.debit({ tenant: "t", key: "dup", amount: 7, drawOrder: ["paid"] }),
          ),
        );
        expect(results.filter((r) => r.code === "ok")).toHaveLength(1);
        expect(results.filter((r) => r.code === "exists")).toHaveLength(39);
        const ids = new Set(results.map((r) => (r.ok ? r.value.transferId : "")));
        expect(ids.size).toBe(1);
        expect((await store.balances("t")).available.paid).toBe(993);
      });
    });

    describe("holds", () => {
      it("commits less than held and releases the rest", async () => {
        value(await fund("t", 100));
        const h = value(
          await store.hold({ tenant: "t", key: "h", amount: 40, drawOrder: ["paid"], ttlMs: MIN }),
        );
        expect(await store.balances("t")).toMatchObject({
          posted: { paid: 100 },
          held: { paid: 40 },
          available: { paid: 60 },
        });
        const c = value(
          await store.commit({ tenant: "t", key: "c", holdId: h.holdId, amount: 25 }),
        );
        expect(c).toMatchObject({ committed: 25, released: 15 });
        expect(await store.balances("t")).toMatchObject({
          posted: { paid: 75 },
          held: { paid: 0 },
          available: { paid: 75 },
        });
      });

      it("commits above the hold only within an explicit overage allowance", async () => {
        value(await fund("t", 100));
        const h = value(
          await store.hold({ tenant: "t", key: "h", amount: 40, drawOrder: ["paid"], ttlMs: MIN }),
        );
        expect(
          await store.commit({ tenant: "t", key: "c1", holdId: h.holdId, amount: 41 }),
        ).toMatchObject({ code: "commit_exceeds_hold" });
        expect(
          await store.commit({
            tenant: "t",
            key: "c2",
            holdId: h.holdId,
            amount: 56,
            overageAllowance: 15,
          }),
        ).toMatchObject({ code: "commit_exceeds_hold" });
        value(
          await store.commit({
            tenant: "t",
            key: "c3",
            holdId: h.holdId,
            amount: 55,
            overageAllowance: 15,
          }),
        );
        expect((await store.balances("t")).available.paid).toBe(45);
      });

      it("refuses double commit, commit after release, and release after commit, with codes", async () => {
        value(await fund("t", 100));
        const a = value(
          await store.hold({ tenant: "t", key: "a", amount: 10, drawOrder: ["paid"], ttlMs: MIN }),
        );
        const b = value(
          await store.hold({ tenant: "t", key: "b", amount: 10, drawOrder: ["paid"], ttlMs: MIN }),
        );
        value(await store.commit({ tenant: "t", key: "ca", holdId: a.holdId, amount: 10 }));
        expect(
          await store.commit({ tenant: "t", key: "ca2", holdId: a.holdId, amount: 10 }),
        ).toMatchObject({ code: "hold_already_committed" });
        expect(await store.release({ tenant: "t", key: "ra", holdId: a.holdId })).toMatchObject({
          code: "hold_already_committed",
        });
        value(await store.release({ tenant: "t", key: "rb", holdId: b.holdId }));
        expect(
          await store.commit({ tenant: "t", key: "cb", holdId: b.holdId, amount: 1 }),
        ).toMatchObject({ code: "hold_released" });
        expect(
          await store.commit({ tenant: "t", key: "cx", holdId: "hld_nope", amount: 1 }),
        ).toMatchObject({ code: "hold_not_found" });
        expect(
          await store.commit({ tenant: "other", key: "cy", holdId: b.holdId, amount: 1 }),
        ).toMatchObject({ code: "hold_not_found" });
        expect((await store.balances("t")).available.paid).toBe(90);
      });

      it("expires an unresolved hold exactly once at its TTL, lazily on read", async () => {
        value(await fund("t", 100));
        const h = value(
          await store.hold({ tenant: "t", key: "h", amount: 30, drawOrder: ["paid"], ttlMs: MIN }),
        );
        clock.tick(MIN - 1);
        expect((await store.balances("t")).held.paid).toBe(30);
        clock.tick(1);
        expect((await store.balances("t")).held.paid).toBe(0);
        expect(
          await store.commit({ tenant: "t", key: "c", holdId: h.holdId, amount: 1 }),
        ).toMatchObject({ code: "hold_expired" });
        expect(await store.release({ tenant: "t", key: "r", holdId: h.holdId })).toMatchObject({
          code: "hold_expired",
        });
        clock.tick(MIN);
        await store.sweep();
        await store.balances("t");
        const expiries = (await store.auditRecords(0, 1000)).filter((r) => r.kind === "expiry");
        expect(expiries).toHaveLength(1);
        expect(expiries[0]).toMatchObject({ at_ms: T0 + MIN, data: { hold_id: h.holdId } });
        expect((await store.balances("t")).available.paid).toBe(100);
      });

      it("expires holds by the sweeper without any read of the tenant", async () => {
        value(await fund("t", 100));
        value(
          await store.hold({ tenant: "t", key: "h", amount: 30, drawOrder: ["paid"], ttlMs: MIN }),
        );
        clock.tick(MIN);
        expect(await store.sweep()).toEqual({
          grantsActivated: 0,
          grantsExpired: 0,
          holdsExpired: 1,
        });
        expect(await store.sweep()).toEqual({
          grantsActivated: 0,
          grantsExpired: 0,
          holdsExpired: 0,
        });
      });
    });

    describe("grant lifecycle", () => {
      it("expires a grant with an entry (not a deletion), lazily and by the sweeper, and answers past balances", async () => {
        const g = value(
          await store.grant({
            tenant: "t",
            key: "g",
            class: "promo",
            amount: 50,
            source: "s",
            expiresAtMs: T0 + 10 * MIN,
          }),
        );
        value(
          await store.grant({
            tenant: "u",
            key: "g",
            class: "promo",
            amount: 5,
            source: "s",
            expiresAtMs: T0 + 10 * MIN,
          }),
        );
        clock.tick(MIN);
        value(await store.debit({ tenant: "t", key: "d", amount: 20, drawOrder: ["promo"] }));
        clock.tick(10 * MIN);
        expect((await store.balances("t")).available.promo).toBe(0);
        const expiry = await sut.raw(
          `SELECT amount, at_ms, kind FROM entries WHERE grant_id = '${g.grantId}' AND kind = 'expiry'`,
        );
        expect(expiry.map((r) => Number((r as { amount: number }).amount))).toEqual([-30]);
        expect(await store.sweep()).toMatchObject({ grantsExpired: 1 });
        expect((await store.balancesAt("t", T0 + MIN - 1)).available.promo).toBe(50);
        expect((await store.balancesAt("t", T0 + MIN)).available.promo).toBe(30);
        expect((await store.balancesAt("t", T0 + 10 * MIN)).available.promo).toBe(0);
      });

      it("activates a future grant at its effective time", async () => {
        value(
          await store.grant({
            tenant: "t",
            key: "g",
            class: "paid",
            amount: 50,
            source: "s",
            effectiveAtMs: T0 + MIN,
          }),
        );
        expect((await store.balances("t")).available.paid).toBe(0);
        expect(
          await store.debit({ tenant: "t", key: "d", amount: 1, drawOrder: ["paid"] }),
        ).toMatchObject({ code: "insufficient_credits" });
        clock.tick(MIN);
        expect((await store.balances("t")).available.paid).toBe(50);
        expect((await store.balancesAt("t", T0 + MIN - 1)).available.paid).toBe(0);
      });

      it("expires credit a hold gives back to an already expired grant", async () => {
        value(
          await store.grant({
            tenant: "t",
            key: "g",
            class: "paid",
            amount: 50,
            source: "s",
            expiresAtMs: T0 + MIN,
          }),
        );
        value(
          await store.hold({
            tenant: "t",
            key: "h",
            amount: 20,
            drawOrder: ["paid"],
            ttlMs: 2 * MIN,
          }),
        );
        clock.tick(MIN);
        expect(await store.balances("t")).toMatchObject({
          posted: { paid: 20 },
          held: { paid: 20 },
          available: { paid: 0 },
        });
        clock.tick(MIN);
        expect(await store.balances("t")).toMatchObject({ posted: { paid: 0 }, held: { paid: 0 } });
      });
    });

    describe("reversals", () => {
      it("reverses a debit with new entries pointing at the originals, in part or whole, once", async () => {
        value(await fund("t", 100));
        const d = value(
          await store.debit({ tenant: "t", key: "d", amount: 30, drawOrder: ["paid"] }),
        );
        const r1 = value(
          await store.reverse({
            tenant: "t",
            key: "r1",
            transferId: d.transferId,
            amount: 10,
            reason: "refund",
          }),
        );
        expect(r1).toMatchObject({ amount: 10, reversedTransferId: d.transferId });
        expect((await store.balances("t")).available.paid).toBe(80);
        expect(
          await store.reverse({
            tenant: "t",
            key: "r2",
            transferId: d.transferId,
            amount: 21,
            reason: "refund",
          }),
        ).toMatchObject({ code: "reversal_exceeds_remaining" });
        value(
          await store.reverse({
            tenant: "t",
            key: "r3",
            transferId: d.transferId,
            reason: "dispute",
          }),
        );
        expect((await store.balances("t")).available.paid).toBe(100);
        expect(
          await store.reverse({
            tenant: "t",
            key: "r4",
            transferId: d.transferId,
            reason: "again",
          }),
        ).toMatchObject({ code: "reversal_exceeds_remaining" });
        expect(
          await store.reverse({ tenant: "t", key: "r5", transferId: r1.transferId, reason: "x" }),
        ).toMatchObject({ code: "transfer_not_reversible" });
        expect(
          await store.reverse({ tenant: "t", key: "r6", transferId: "ent_nope", reason: "x" }),
        ).toMatchObject({ code: "transfer_not_found" });
        const refs = await sut.raw(`SELECT ref_entry_id FROM entries WHERE kind = 'reversal'`);
        const originals = (
          await sut.raw(`SELECT entry_id FROM entries WHERE transfer_id = '${d.transferId}'`)
        ).map((r) => (r as { entry_id: string }).entry_id);
        expect(
          refs
            .map((r) => (r as { ref_entry_id: string }).ref_entry_id)
            .every((id) => originals.includes(id)),
        ).toBe(true);
        expect(refs).toHaveLength(2);
      });

      it("reverses a commit", async () => {
        value(await fund("t", 100));
        const h = value(
          await store.hold({ tenant: "t", key: "h", amount: 40, drawOrder: ["paid"], ttlMs: MIN }),
        );
        const c = value(
          await store.commit({ tenant: "t", key: "c", holdId: h.holdId, amount: 40 }),
        );
        value(
          await store.reverse({
            tenant: "t",
            key: "r",
            transferId: c.transferId,
            reason: "refund",
          }),
        );
        expect((await store.balances("t")).available.paid).toBe(100);
      });
    });

    describe("usage, revocations and decisions", () => {
      it("increments usage windows atomically with the debit and reads them in a snapshot", async () => {
        value(await fund("t", 100));
        const usage = [
          { scope: "principal:u1", window: "minute" as const, calls: 1, credits: 0 },
          { scope: "key:k1", window: "hour" as const, calls: 0, credits: 5 },
        ];
        value(await store.debit({ tenant: "t", key: "d1", amount: 5, drawOrder: ["paid"], usage }));
        value(await store.debit({ tenant: "t", key: "d2", amount: 5, drawOrder: ["paid"], usage }));
        expect(
          await store.debit({ tenant: "t", key: "d3", amount: 500, drawOrder: ["paid"], usage }),
        ).toMatchObject({ code: "insufficient_credits" });
        const keys = usage.map(({ scope, window }) => ({ scope, window }));
        const snap = await store.snapshot("t", keys);
        expect(snap.balances.available.paid).toBe(90);
        expect(snap.usage.map((u) => [u.scope, u.calls, u.credits])).toEqual([
          ["principal:u1", 2, 0],
          ["key:k1", 0, 10],
        ]);
        clock.tick(MIN);
        const next = await store.snapshot("t", keys);
        expect(next.usage.map((u) => [u.calls, u.credits])).toEqual([
          [0, 0],
          [0, 10],
        ]);
      });

      it("records revocations with reason and time, audited", async () => {
        value(
          await store.revoke({
            tenant: "t",
            key: "r1",
            kind: "token",
            subject: "jti-1",
            reason: "leaked",
          }),
        );
        value(
          await store.revoke({
            tenant: "t",
            key: "r2",
            kind: "principal",
            subject: "u1",
            reason: "offboarded",
          }),
        );
        expect(await store.revocations({ tenant: "t", kind: "token" })).toMatchObject([
          { subject: "jti-1", reason: "leaked", atMs: T0 },
        ]);
        expect(await store.revocations({ tenant: "t" })).toHaveLength(2);
        expect((await store.auditRecords(0, 10)).map((r) => r.kind)).toEqual([
          "revocation",
          "revocation",
        ]);
      });

      it("records a decision with its metadata in the same audit record as the debit", async () => {
        value(await fund("t", 100));
        const audit = {
          kind: "decision",
          decision_id: "dec_1",
          policy_revision: "abc",
          reasons: ["OK"],
        };
        const d = value(
          await store.debit({ tenant: "t", key: "d", amount: 1, drawOrder: ["paid"], audit }),
        );
        const deny = value(
          await store.recordDecision({
            tenant: "t",
            key: "deny",
            audit: { ...audit, decision_id: "dec_2" },
          }),
        );
        const records = await store.auditRecords(0, 10);
        expect(records.find((r) => r.seq === d.auditSeq)).toMatchObject({
          kind: "debit",
          data: { context: audit },
        });
        expect(records.find((r) => r.seq === deny.auditSeq)).toMatchObject({ kind: "decision" });
      });
    });

    describe("audit trail", () => {
      it("writes one record per effect, exports JSON Lines that verify, and names a tampered record", async () => {
        value(await fund("t", 100));
        const h = value(
          await store.hold({ tenant: "t", key: "h", amount: 10, drawOrder: ["paid"], ttlMs: MIN }),
        );
        value(await store.commit({ tenant: "t", key: "c", holdId: h.holdId, amount: 5 }));
        const d = value(
          await store.debit({ tenant: "t", key: "d", amount: 5, drawOrder: ["paid"] }),
        );
        value(
          await store.reverse({ tenant: "t", key: "r", transferId: d.transferId, reason: "x" }),
        );
        const lines: string[] = [];
        expect(await store.exportAudit((line) => void lines.push(line))).toBe(5);
        const records = parseJsonLines(lines.join(""));
        expect(records.map((r) => r.kind)).toEqual([
          "grant",
          "hold",
          "commit",
          "debit",
          "reversal",
        ]);
        expect((await verifyChain(records)).ok).toBe(true);
        const tampered = records.map((r) =>
          r.seq === 3 ? { ...r, data: { ...r.data, committed: 1 } } : r,
        );
        expect(await verifyChain(tampered)).toMatchObject({ ok: false, brokenSeq: 3 });
      });

      it("refuses UPDATE and DELETE of entries and audit records in the database itself", async () => {
        value(await fund("t", 100));
        value(await store.debit({ tenant: "t", key: "d", amount: 5, drawOrder: ["paid"] }));
        await expect(sut.raw("UPDATE entries SET amount = 1")).rejects.toThrow(/append-only/);
        await expect(sut.raw("DELETE FROM entries")).rejects.toThrow(/append-only/);
        await expect(sut.raw("UPDATE audit_records SET data = '{}'")).rejects.toThrow(
          /append-only/,
        );
        await expect(sut.raw("DELETE FROM audit_records")).rejects.toThrow(/append-only/);
        expect((await store.verifyAudit()).ok).toBe(true);
      });

      it("masks configured fields before hashing", async () => {
        const masked = await factory.open(clock, { maskFields: ["context.email"] });
        try {
          value(
            await masked.store.recordDecision({
              tenant: "m",
              key: "k",
              audit: { email: "a@b.c", decision_id: "dec_9" },
            }),
          );
          const [record] = (await masked.store.auditRecords(0, 100)).filter(
            (r) => r.tenant === "m",
          );
          expect(record?.data.context).toEqual({ email: "[masked]", decision_id: "dec_9" });
          expect(JSON.stringify(await masked.raw("SELECT data FROM audit_records"))).not.toContain(
            "a@b.c",
          );
          expect((await masked.store.verifyAudit()).ok).toBe(true);
        } finally {
          await masked.close();
        }
      });
    });

    describe("scenarios", () => {
      for (const scenario of parseScenarios(scenarioText)) {
        it(scenario.name, async () => {
          floor = Math.min(
            0,
            ...scenario.lines.map((l) => Number(/floor\.\w+=(-?\d+)/.exec(l)?.[1] ?? 0)),
          );
          await runScenario(scenario, store, clock, "scenario");
        });
      }
    });

    it("lets exactly floor(B/a) of K concurrent debits through on a hot tenant", async () => {
      value(await fund("hot", 100));
      const results = await Promise.all(
        Array.from({ length: 64 }, (_, i) =>
          store.debit({ tenant: "hot", key: `k${i}`, amount: 7, drawOrder: ["paid"] }),
        ),
      );
      expect(results.filter((r) => r.code === "ok")).toHaveLength(14);
      expect(results.filter((r) => r.code === "insufficient_credits")).toHaveLength(50);
      expect((await store.balances("hot")).available.paid).toBe(2);
    });
  });
}
