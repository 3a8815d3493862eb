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
import { limits } from "../../src/limits.js";
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
      expect(await store.schemaVersion()).toBe(5);
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

      describe("owners", () => {
        const alice = "user:https://idp.example:alice";
        const bob = "user:https://idp.example:bob";
        const owned = (key: string, amount: number, owner = alice) =>
          store.hold({ tenant: "t", key, amount, drawOrder: ["paid"], ttlMs: MIN, owner });

        it("stores the owner and reports it; a hold without one reports null", async () => {
          value(await fund("t", 100));
          const a = value(await owned("a", 10));
          const legacy = value(
            await store.hold({ tenant: "t", key: "n", amount: 5, drawOrder: ["paid"], ttlMs: MIN }),
          );
          expect(await store.holdStatus("t", a.holdId)).toMatchObject({ owner: alice });
          expect(await store.holdStatus("t", legacy.holdId)).toMatchObject({ owner: null });
          await expect(owned("x", 1, "")).rejects.toThrow(TypeError);
          await expect(owned("x", 1, "o".repeat(limits.ledgerKeyCharsMax + 1))).rejects.toThrow(
            TypeError,
          );
        });

        it("refuses commit and release by another owner or none with hold_not_owned, changing nothing", async () => {
          value(await fund("t", 100));
          const a = value(await owned("a", 40));
          const seqBefore = (await store.auditRecords(0, 1000)).length;
          const refusals = [
            await store.commit({ tenant: "t", key: "c1", holdId: a.holdId, amount: 1, owner: bob }),
            await store.commit({ tenant: "t", key: "c2", holdId: a.holdId, amount: 1 }),
            await store.release({ tenant: "t", key: "r1", holdId: a.holdId, owner: bob }),
            await store.release({ tenant: "t", key: "r2", holdId: a.holdId }),
          ];
          for (const r of refusals) expect(r).toEqual({ ok: false, code: "hold_not_owned" });
          // After hold_not_found, before validation of state: an unknown hold is still unknown.
          expect(
            await store.release({ tenant: "t", key: "r3", holdId: "hld_nope", owner: bob }),
          ).toMatchObject({ code: "hold_not_found" });
          expect(
            await store.commit({
              tenant: "other",
              key: "c3",
              holdId: a.holdId,
              amount: 1,
              owner: alice,
            }),
          ).toMatchObject({ code: "hold_not_found" });
          expect(await store.holdStatus("t", a.holdId)).toMatchObject({
            state: "active",
            remaining: 40,
          });
          expect(await store.balances("t")).toMatchObject({
            posted: { paid: 100 },
            held: { paid: 40 },
          });
          expect(await store.auditRecords(0, 1000)).toHaveLength(seqBefore);
          // A refused key is free to use again, and a draw does not ask for the owner.
          value(await store.drawHold({ tenant: "t", key: "d", holdId: a.holdId, amount: 5 }));
          expect(
            value(
              await store.commit({
                tenant: "t",
                key: "c1",
                holdId: a.holdId,
                amount: 25,
                owner: alice,
              }),
            ),
          ).toMatchObject({ committed: 25, released: 10 });
          // Once settled, another principal hears hold_not_owned, not the hold's state.
          expect(
            await store.release({ tenant: "t", key: "r4", holdId: a.holdId, owner: bob }),
          ).toMatchObject({ code: "hold_not_owned" });
          expect(
            await store.release({ tenant: "t", key: "r5", holdId: a.holdId, owner: alice }),
          ).toMatchObject({ code: "hold_already_committed" });
          expect((await store.balances("t")).available.paid).toBe(70);
        });

        it("lets the owner release, and replays by key with the owner in the fingerprint", async () => {
          value(await fund("t", 100));
          const a = value(await owned("a", 30));
          const r = value(
            await store.release({ tenant: "t", key: "r", holdId: a.holdId, owner: alice }),
          );
          expect(r).toMatchObject({ released: 30 });
          expect(
            await store.release({ tenant: "t", key: "r", holdId: a.holdId, owner: alice }),
          ).toMatchObject({ ok: true, code: "exists", value: r });
          expect(
            await store.release({ tenant: "t", key: "r", holdId: a.holdId, owner: bob }),
          ).toMatchObject({ code: "exists_with_different_request" });
          expect(await store.release({ tenant: "t", key: "r", holdId: a.holdId })).toMatchObject({
            code: "exists_with_different_request",
          });
          // The same hold request with another owner is another request.
          expect(await owned("a", 30, bob)).toMatchObject({
            code: "exists_with_different_request",
          });
          expect(await store.holdStatus("t", a.holdId)).toMatchObject({ state: "released" });
          expect((await store.balances("t")).available.paid).toBe(100);
        });

        it("settles a hold without an owner for anyone, with or without an owner named", async () => {
          value(await fund("t", 100));
          const hold = (key: string) =>
            store.hold({ tenant: "t", key, amount: 10, drawOrder: ["paid"], ttlMs: MIN });
          const a = value(await hold("a"));
          const b = value(await hold("b"));
          value(
            await store.commit({ tenant: "t", key: "c", holdId: a.holdId, amount: 4, owner: bob }),
          );
          value(await store.release({ tenant: "t", key: "r", holdId: b.holdId }));
          expect((await store.balances("t")).available.paid).toBe(96);
        });

        it("expires an owned hold at its TTL like any other, by read or by the sweeper", async () => {
          value(await fund("t", 100));
          const a = value(await owned("a", 10));
          value(await owned("b", 20));
          clock.tick(MIN);
          expect(await store.sweep()).toMatchObject({ holdsExpired: 2 });
          expect(await store.holdStatus("t", a.holdId)).toMatchObject({
            state: "expired",
            owner: alice,
          });
          expect(
            await store.release({ tenant: "t", key: "r", holdId: a.holdId, owner: alice }),
          ).toMatchObject({ code: "hold_expired" });
          expect((await store.balances("t")).available.paid).toBe(100);
        });
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

    describe("drawing from a hold", () => {
      const hold = (tenant: string, key: string, amount: number, extra: object = {}) =>
        store.hold({ tenant, key, amount, drawOrder: ["promo", "paid"], ttlMs: MIN, ...extra });
      const draw = (key: string, holdId: string, amount: number, tenant = "t") =>
        store.drawHold({ tenant, key, holdId, amount });

      it("spends from the hold's parts in order, keeps it active, and reads its status", async () => {
        value(await fund("t", 100));
        const promo = value(
          await store.grant({ tenant: "t", key: "p", class: "promo", amount: 10, source: "s" }),
        );
        const h = value(await hold("t", "h", 50));
        expect(await store.holdStatus("t", h.holdId)).toEqual({
          holdId: h.holdId,
          tenant: "t",
          amount: 50,
          drawn: 0,
          remaining: 50,
          state: "active",
          expiresAtMs: T0 + MIN,
          owner: null,
          remainingByClass: { trial: 0, paid: 40, promo: 10, admin: 0 },
        });
        clock.tick(1_000);
        const d = value(
          await store.drawHold({
            tenant: "t",
            key: "d1",
            holdId: h.holdId,
            amount: 15,
            audit: { decision_id: "dec_1" },
          }),
        );
        expect(d).toMatchObject({ holdId: h.holdId, amount: 15, remaining: 35 });
        expect(d.parts).toEqual([
          { class: "promo", grantId: promo.grantId, amount: 10 },
          { class: "paid", grantId: h.parts[1]!.grantId, amount: 5 },
        ]);
        expect(await store.balances("t")).toMatchObject({
          posted: { paid: 95, promo: 0 },
          held: { paid: 35, promo: 0 },
          available: { paid: 60, promo: 0 },
        });
        expect(await store.holdStatus("t", h.holdId)).toMatchObject({
          drawn: 15,
          remaining: 35,
          state: "active",
          remainingByClass: { trial: 0, paid: 35, promo: 0, admin: 0 },
        });
        const records = await store.queryAudit({ kind: "draw", limit: 10 });
        expect(records.records).toHaveLength(1);
        expect(records.records[0]!.data).toMatchObject({
          transfer_id: d.transferId,
          hold_id: h.holdId,
          amount: 15,
          remaining: 35,
          context: { decision_id: "dec_1" },
        });
        // Past balances see what the hold reserved then.
        clock.tick(1_000);
        expect(await store.balancesAt("t", T0 + 500)).toMatchObject({
          posted: { paid: 100, promo: 10 },
          held: { paid: 40, promo: 10 },
        });
        expect(await store.balancesAt("t", T0 + 1_000)).toMatchObject({
          posted: { paid: 95, promo: 0 },
          held: { paid: 35, promo: 0 },
        });
        expect(await store.holdStatus("t", "hld_nope")).toBeNull();
        expect(await store.holdStatus("other", h.holdId)).toBeNull();
      });

      it("answers each refusal in precedence order and changes nothing", async () => {
        value(await fund("t", 100));
        value(await fund("other", 100));
        const h = value(await hold("t", "h", 20));
        expect(await draw("a", h.holdId, 0)).toMatchObject({ code: "amount_not_positive" });
        expect(await draw("a", "hld_nope", 0)).toMatchObject({ code: "amount_not_positive" });
        expect(await draw("a", h.holdId, limits.creditAmountMax + 1)).toMatchObject({
          code: "amount_exceeds_max",
        });
        expect(await draw("a", "hld_nope", 1)).toMatchObject({ code: "hold_not_found" });
        expect(await draw("a", h.holdId, 1, "other")).toMatchObject({ code: "hold_not_found" });
        expect(await draw("a", h.holdId, 21)).toMatchObject({ code: "hold_insufficient" });
        await expect(draw("a", h.holdId, 1.5)).rejects.toThrow(TypeError);
        expect(await store.holdStatus("t", h.holdId)).toMatchObject({ drawn: 0, remaining: 20 });

        const c = value(await hold("t", "hc", 10));
        value(await store.commit({ tenant: "t", key: "c", holdId: c.holdId, amount: 10 }));
        expect(await draw("a", c.holdId, 1)).toMatchObject({ code: "hold_already_committed" });
        const r = value(await hold("t", "hr", 10));
        value(await store.release({ tenant: "t", key: "r", holdId: r.holdId }));
        expect(await draw("a", r.holdId, 1)).toMatchObject({ code: "hold_released" });
        clock.tick(MIN);
        expect(await draw("a", h.holdId, 1)).toMatchObject({ code: "hold_expired" });
        expect((await store.balances("t")).available.paid).toBe(90);
      });

      it("bounds the spend: draws until hold_insufficient while the tenant has credit elsewhere", async () => {
        value(await fund("t", 1_000));
        const h = value(await hold("t", "h", 30));
        for (let i = 0; i < 3; i++) {
          expect(value(await draw(`d${i}`, h.holdId, 10)).remaining).toBe(20 - 10 * i);
        }
        expect(await draw("d3", h.holdId, 1)).toMatchObject({ code: "hold_insufficient" });
        expect(await store.balances("t")).toMatchObject({
          posted: { paid: 970 },
          held: { paid: 0 },
          available: { paid: 970 },
        });
        expect(await store.holdStatus("t", h.holdId)).toMatchObject({
          state: "active",
          drawn: 30,
          remaining: 0,
        });
        expect(
          value(await store.release({ tenant: "t", key: "r", holdId: h.holdId })),
        ).toMatchObject({ released: 0 });
        expect((await store.balances("t")).available.paid).toBe(970);
      });

      it("replays a draw by key and refuses the key for another request", async () => {
        value(await fund("t", 100));
        const h = value(await hold("t", "h", 20));
        const first = await draw("d", h.holdId, 5);
        value(first);
        const again = await draw("d", h.holdId, 5);
        expect(again).toEqual({ ...first, code: "exists" });
        expect(await draw("d", h.holdId, 6)).toMatchObject({
          code: "exists_with_different_request",
        });
        expect(await store.holdStatus("t", h.holdId)).toMatchObject({ drawn: 5, remaining: 15 });
        const concurrent = await Promise.all(
          Array.from({ length: 10 }, () => draw("burst", h.holdId, 3)),
        );
        expect(concurrent.filter((r) => r.code === "ok")).toHaveLength(1);
        expect(concurrent.filter((r) => r.code === "exists")).toHaveLength(9);
        expect(await store.holdStatus("t", h.holdId)).toMatchObject({ drawn: 8, remaining: 12 });
      });

      it("after draws, commits up to the remainder (overage beyond it), exactly once", async () => {
        value(await fund("t", 100));
        const h = value(await hold("t", "h", 40));
        value(await draw("d", h.holdId, 15));
        expect(
          await store.commit({ tenant: "t", key: "c0", holdId: h.holdId, amount: 26 }),
        ).toMatchObject({ code: "commit_exceeds_hold" });
        const c = value(
          await store.commit({ tenant: "t", key: "c", holdId: h.holdId, amount: 20 }),
        );
        expect(c).toMatchObject({ committed: 20, released: 5 });
        expect(await store.balances("t")).toMatchObject({
          posted: { paid: 65 },
          held: { paid: 0 },
          available: { paid: 65 },
        });
        expect(
          await store.commit({ tenant: "t", key: "c2", holdId: h.holdId, amount: 1 }),
        ).toMatchObject({ code: "hold_already_committed" });
        expect(await store.release({ tenant: "t", key: "r", holdId: h.holdId })).toMatchObject({
          code: "hold_already_committed",
        });
        expect(await store.holdStatus("t", h.holdId)).toMatchObject({
          state: "committed",
          drawn: 15,
          remaining: 0,
        });
        const o = value(await hold("t", "o", 20));
        value(await draw("od", o.holdId, 10));
        value(
          await store.commit({
            tenant: "t",
            key: "oc",
            holdId: o.holdId,
            amount: 15,
            overageAllowance: 5,
          }),
        );
        expect((await store.balances("t")).available.paid).toBe(40);
      });

      it("after draws, release gives back only the remainder, exactly once", async () => {
        value(await fund("t", 100));
        const h = value(await hold("t", "h", 40));
        value(await draw("d", h.holdId, 15));
        expect(
          value(await store.release({ tenant: "t", key: "r", holdId: h.holdId })),
        ).toMatchObject({ released: 25 });
        expect(await store.release({ tenant: "t", key: "r2", holdId: h.holdId })).toMatchObject({
          code: "hold_released",
        });
        expect(await store.balances("t")).toMatchObject({
          posted: { paid: 85 },
          held: { paid: 0 },
          available: { paid: 85 },
        });
        expect(await store.holdStatus("t", h.holdId)).toMatchObject({
          state: "released",
          drawn: 15,
          remaining: 0,
          remainingByClass: { trial: 0, paid: 0, promo: 0, admin: 0 },
        });
      });

      it("after draws, expiry gives back only the remainder, exactly once, and holdStatus applies it", async () => {
        value(await fund("t", 100));
        const h = value(await hold("t", "h", 40));
        value(await draw("d", h.holdId, 15));
        clock.tick(MIN - 1);
        expect(await store.holdStatus("t", h.holdId)).toMatchObject({
          state: "active",
          remaining: 25,
        });
        clock.tick(1);
        expect(await store.holdStatus("t", h.holdId)).toEqual({
          holdId: h.holdId,
          tenant: "t",
          amount: 40,
          drawn: 15,
          remaining: 0,
          state: "expired",
          expiresAtMs: T0 + MIN,
          owner: null,
          remainingByClass: { trial: 0, paid: 0, promo: 0, admin: 0 },
        });
        expect(await store.balances("t")).toMatchObject({
          posted: { paid: 85 },
          held: { paid: 0 },
          available: { paid: 85 },
        });
        clock.tick(MIN);
        expect((await store.sweep()).holdsExpired).toBe(0);
        expect(await draw("d2", h.holdId, 1)).toMatchObject({ code: "hold_expired" });
        const expiries = (await store.auditRecords(0, 100)).filter((r) => r.kind === "expiry");
        expect(expiries).toHaveLength(1);
        expect(expiries[0]).toMatchObject({
          at_ms: T0 + MIN,
          data: { hold_id: h.holdId, released: 25 },
        });
      });

      it("expires a drawn hold by the sweeper, giving back only the remainder", async () => {
        value(await fund("t", 100));
        const h = value(await hold("t", "h", 40));
        value(await draw("d", h.holdId, 30));
        clock.tick(MIN);
        expect((await store.sweep()).holdsExpired).toBe(1);
        expect((await store.balances("t")).available.paid).toBe(70);
        expect(await store.holdStatus("t", h.holdId)).toMatchObject({ state: "expired" });
      });

      it("reverses a draw to the tenant's balance, not back into the hold", async () => {
        value(await fund("t", 100));
        const h = value(await hold("t", "h", 40));
        const d = value(await draw("d", h.holdId, 15));
        const part = value(
          await store.reverse({
            tenant: "t",
            key: "r1",
            transferId: d.transferId,
            amount: 5,
            reason: "refund",
          }),
        );
        expect(part).toMatchObject({ reversedTransferId: d.transferId, amount: 5 });
        value(
          await store.reverse({ tenant: "t", key: "r2", transferId: d.transferId, reason: "rest" }),
        );
        expect(
          await store.reverse({
            tenant: "t",
            key: "r3",
            transferId: d.transferId,
            reason: "again",
          }),
        ).toMatchObject({ code: "reversal_exceeds_remaining" });
        expect(await store.balances("t")).toMatchObject({
          posted: { paid: 100 },
          held: { paid: 25 },
          available: { paid: 75 },
        });
        expect(await store.holdStatus("t", h.holdId)).toMatchObject({ drawn: 15, remaining: 25 });
        value(await store.release({ tenant: "t", key: "rel", holdId: h.holdId }));
        expect((await store.balances("t")).available.paid).toBe(100);
      });
    });

    describe("usage limits", () => {
      const limited = (max: { maxCalls?: number; maxCredits?: number }, credits = 0) => [
        { scope: "task:k1", window: "minute" as const, calls: 1, credits, ...max },
      ];
      const calls = async () =>
        (await store.snapshot("t", [{ scope: "task:k1", window: "minute" }])).usage[0]!;

      it("applies operations up to the max, then refuses the whole operation", async () => {
        value(await fund("t", 100));
        const usage = limited({ maxCalls: 3 });
        for (let i = 0; i < 3; i++) {
          value(
            await store.debit({ tenant: "t", key: `d${i}`, amount: 1, drawOrder: ["paid"], usage }),
          );
        }
        expect(
          await store.debit({ tenant: "t", key: "d3", amount: 1, drawOrder: ["paid"], usage }),
        ).toMatchObject({ code: "usage_limit_exceeded" });
        // After validation, before insufficient_credits.
        expect(
          await store.debit({ tenant: "t", key: "d4", amount: 0, drawOrder: ["paid"], usage }),
        ).toMatchObject({ code: "amount_not_positive" });
        expect(
          await store.debit({ tenant: "t", key: "d5", amount: 1_000, drawOrder: ["paid"], usage }),
        ).toMatchObject({ code: "usage_limit_exceeded" });
        expect((await store.balances("t")).available.paid).toBe(97);
        expect(await calls()).toMatchObject({ calls: 3 });
        // A refused key is not recorded: it may be used again once the window allows.
        clock.tick(MIN);
        value(await store.debit({ tenant: "t", key: "d3", amount: 1, drawOrder: ["paid"], usage }));
        expect(await calls()).toMatchObject({ calls: 1 });
      });

      it("limits credits per window", async () => {
        value(await fund("t", 100));
        const usage = limited({ maxCredits: 12 }, 5);
        value(await store.debit({ tenant: "t", key: "a", amount: 5, drawOrder: ["paid"], usage }));
        value(await store.debit({ tenant: "t", key: "b", amount: 5, drawOrder: ["paid"], usage }));
        expect(
          await store.debit({ tenant: "t", key: "c", amount: 5, drawOrder: ["paid"], usage }),
        ).toMatchObject({ code: "usage_limit_exceeded" });
        expect(await calls()).toMatchObject({ calls: 2, credits: 10 });
      });

      it("holds for hold, drawHold and commit on one counter; recordDecision ignores maxes", async () => {
        value(await fund("t", 100));
        const usage = limited({ maxCalls: 3 });
        const h = value(
          await store.hold({
            tenant: "t",
            key: "h",
            amount: 20,
            drawOrder: ["paid"],
            ttlMs: MIN,
            usage,
          }),
        );
        value(await store.drawHold({ tenant: "t", key: "d", holdId: h.holdId, amount: 5, usage }));
        value(await store.commit({ tenant: "t", key: "c", holdId: h.holdId, amount: 5, usage }));
        const h2 = value(
          await store.hold({ tenant: "t", key: "h2", amount: 20, drawOrder: ["paid"], ttlMs: MIN }),
        );
        expect(
          await store.hold({
            tenant: "t",
            key: "h3",
            amount: 1,
            drawOrder: ["paid"],
            ttlMs: MIN,
            usage,
          }),
        ).toMatchObject({ code: "usage_limit_exceeded" });
        expect(
          await store.drawHold({ tenant: "t", key: "d2", holdId: h2.holdId, amount: 5, usage }),
        ).toMatchObject({ code: "usage_limit_exceeded" });
        // State codes come first.
        expect(
          await store.drawHold({ tenant: "t", key: "d3", holdId: h2.holdId, amount: 21, usage }),
        ).toMatchObject({ code: "hold_insufficient" });
        expect(
          await store.commit({ tenant: "t", key: "c2", holdId: h2.holdId, amount: 5, usage }),
        ).toMatchObject({ code: "usage_limit_exceeded" });
        expect(await store.holdStatus("t", h2.holdId)).toMatchObject({ state: "active", drawn: 0 });
        value(
          await store.recordDecision({
            tenant: "t",
            key: "deny",
            audit: { decision: "deny" },
            usage: limited({ maxCalls: 0 }),
          }),
        );
        expect(await calls()).toMatchObject({ calls: 4 });
        expect((await store.balances("t")).available.paid).toBe(70);
      });

      it("counts increments of one operation together and throws TypeError for a bad max", async () => {
        value(await fund("t", 100));
        const twice = [...limited({ maxCalls: 1 }), ...limited({})];
        expect(
          await store.debit({
            tenant: "t",
            key: "a",
            amount: 1,
            drawOrder: ["paid"],
            usage: twice,
          }),
        ).toMatchObject({ code: "usage_limit_exceeded" });
        await expect(
          store.debit({
            tenant: "t",
            key: "b",
            amount: 1,
            drawOrder: ["paid"],
            usage: limited({ maxCalls: -1 }),
          }),
        ).rejects.toThrow(TypeError);
        await expect(
          store.debit({
            tenant: "t",
            key: "b",
            amount: 1,
            drawOrder: ["paid"],
            usage: limited({ maxCredits: 1.5 }),
          }),
        ).rejects.toThrow(TypeError);
      });

      it("admits exactly the max from a concurrent burst, and again in the next window", async () => {
        value(await fund("t", 1_000));
        const usage = limited({ maxCalls: 10 });
        const burst = (prefix: string) =>
          Promise.all(
            Array.from({ length: 50 }, (_, i) =>
              store.debit({
                tenant: "t",
                key: `${prefix}${i}`,
                amount: 1,
                drawOrder: ["paid"],
                usage,
              }),
            ),
          );
        const first = await burst("a");
        expect(first.filter((r) => r.ok)).toHaveLength(10);
        expect(first.filter((r) => r.code === "usage_limit_exceeded")).toHaveLength(40);
        expect(await calls()).toMatchObject({ calls: 10 });
        expect((await store.balances("t")).available.paid).toBe(990);
        clock.tick(MIN);
        const second = await burst("b");
        expect(second.filter((r) => r.ok)).toHaveLength(10);
        expect(await calls()).toMatchObject({ calls: 10 });
        expect((await store.balances("t")).available.paid).toBe(980);
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

      it("debits a fee together with a hold: both apply, or neither", async () => {
        value(await fund("t", 100));
        const both = value(
          await store.hold({
            tenant: "t",
            key: "task",
            amount: 60,
            fee: 30,
            drawOrder: ["paid"],
            ttlMs: MIN,
          }),
        );
        expect(both.fee).toMatchObject({ amount: 30 });
        const after = await store.balances("t");
        expect(after.posted.paid).toBe(70);
        expect(after.held.paid).toBe(60);
        // 10 left: a 5 fee with a 10 hold does not fit, so not even the fee is taken.
        expect(
          await store.hold({
            tenant: "t",
            key: "task2",
            amount: 10,
            fee: 5,
            drawOrder: ["paid"],
            ttlMs: MIN,
          }),
        ).toMatchObject({ ok: false, code: "insufficient_credits" });
        expect((await store.balances("t")).posted.paid).toBe(70);
        // A replay answers the same hold and fee; the fee is reversible like any debit.
        const again = value(
          await store.hold({
            tenant: "t",
            key: "task",
            amount: 60,
            fee: 30,
            drawOrder: ["paid"],
            ttlMs: MIN,
          }),
        );
        expect(again).toEqual(both);
        value(
          await store.reverse({
            tenant: "t",
            key: "refund",
            transferId: both.fee?.transferId ?? "",
            reason: "task cancelled",
          }),
        );
        expect((await store.balances("t")).posted.paid).toBe(100);
        expect((await store.checkInvariants()).problems).toEqual([]);
      });

      it("expires what is left of a revoked grant at once, and nothing of another tenant's", async () => {
        const grant = value(await fund("t", 100));
        value(await store.debit({ tenant: "t", key: "d", amount: 30, drawOrder: ["paid"] }));
        const held = value(
          await store.hold({ tenant: "t", key: "h", amount: 20, drawOrder: ["paid"], ttlMs: MIN }),
        );
        value(await fund("other", 50));
        const revoke = (key: string, tenant: string) =>
          store.revoke({
            tenant,
            key,
            kind: "grant",
            subject: grant.grantId,
            reason: "chargeback",
          });
        // Another tenant naming this grant changes nothing anywhere.
        value(await revoke("r0", "other"));
        expect((await store.balances("t")).posted.paid).toBe(70);
        expect((await store.balances("other")).posted.paid).toBe(50);

        value(await revoke("r1", "t"));
        const after = await store.balances("t");
        // 50 unheld credits expired; the 20 held stay held until the hold gives them back.
        expect(after.posted.paid).toBe(20);
        expect(after.available.paid).toBe(0);
        expect(
          await store.debit({ tenant: "t", key: "d2", amount: 1, drawOrder: ["paid"] }),
        ).toMatchObject({
          code: "insufficient_credits",
        });
        value(await store.release({ tenant: "t", key: "rel", holdId: held.holdId }));
        expect((await store.balances("t")).posted.paid).toBe(0);
        // Revoking again is recorded and changes nothing.
        value(await revoke("r2", "t"));
        expect((await store.balances("t")).posted.paid).toBe(0);
        expect((await store.checkInvariants()).problems).toEqual([]);
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

    describe("tenant status", () => {
      const setStatus = (
        key: string,
        status: "active" | "suspended",
        reason = "abuse",
        tenant = "t",
      ) =>
        store.setTenantStatus({
          tenant,
          key,
          status,
          reason,
          audit: { actor: { kind: "user", id: "ops" } },
        });

      it("suspends and reinstates, read by the next snapshot, each change audited with its reason and actor", async () => {
        value(await fund("t", 100));
        expect((await store.snapshot("t", [])).tenantStatus).toBe("active");
        expect(await store.tenantInfo("t")).toEqual({
          tenant: "t",
          status: "active",
          sinceMs: null,
          reason: null,
        });

        clock.tick(1_000);
        const suspended = value(await setStatus("s1", "suspended", "card declined"));
        expect(suspended).toMatchObject({
          tenant: "t",
          status: "suspended",
          previousStatus: "active",
          changed: true,
          sinceMs: T0 + 1_000,
          reason: "card declined",
        });
        expect((await store.snapshot("t", [])).tenantStatus).toBe("suspended");
        expect(await store.tenantInfo("t")).toEqual({
          tenant: "t",
          status: "suspended",
          sinceMs: T0 + 1_000,
          reason: "card declined",
        });
        // Only the status changed: the credits are all still there.
        expect((await store.balances("t")).available.paid).toBe(100);

        clock.tick(1_000);
        value(await setStatus("r1", "active", "paid up"));
        expect((await store.snapshot("t", [], "next")).tenantStatus).toBe("active");
        expect(await store.tenantInfo("t")).toMatchObject({
          status: "active",
          sinceMs: T0 + 2_000,
          reason: "paid up",
        });

        const records = (await store.queryAudit({ kind: "tenant_status", limit: 10 })).records;
        expect(records.map((r) => [r.seq, r.at_ms, r.tenant, r.data])).toEqual([
          [
            suspended.auditSeq,
            T0 + 1_000,
            "t",
            {
              key: "s1",
              status: "suspended",
              previous_status: "active",
              changed: true,
              reason: "card declined",
              context: { actor: { kind: "user", id: "ops" } },
            },
          ],
          [
            suspended.auditSeq + 1,
            T0 + 2_000,
            "t",
            {
              key: "r1",
              status: "active",
              previous_status: "suspended",
              changed: true,
              reason: "paid up",
              context: { actor: { kind: "user", id: "ops" } },
            },
          ],
        ]);
        expect(await store.verifyAudit()).toMatchObject({ ok: true });
      });

      it("is idempotent by key, and suspending a suspended tenant changes nothing but is audited", async () => {
        const first = value(await setStatus("s1", "suspended"));
        // A tenant the ledger had never seen: suspended all the same, with empty balances.
        expect(first).toMatchObject({ previousStatus: "active", changed: true, sinceMs: T0 });
        expect((await store.balances("t")).posted).toEqual({
          trial: 0,
          paid: 0,
          promo: 0,
          admin: 0,
        });

        clock.tick(1_000);
        const replay = await setStatus("s1", "suspended");
        expect(replay).toEqual({ ok: true, code: "exists", value: first });
        expect(await setStatus("s1", "active")).toEqual({
          ok: false,
          code: "exists_with_different_request",
        });
        expect(await store.tenantInfo("t")).toMatchObject({ status: "suspended" });

        const again = value(await setStatus("s2", "suspended", "still abusing"));
        expect(again).toMatchObject({
          status: "suspended",
          previousStatus: "suspended",
          changed: false,
          // The original suspension's time and reason stand.
          sinceMs: T0,
          reason: "abuse",
        });
        const kinds = (await store.auditRecords(0, 10)).map((r) => [r.kind, r.data.changed]);
        expect(kinds).toEqual([
          ["tenant_status", true],
          ["tenant_status", false],
        ]);
      });

      it("changes the status in the same transaction as a hold expiry due on the tenant", async () => {
        value(await fund("t", 100));
        value(
          await store.hold({ tenant: "t", key: "h", amount: 40, drawOrder: ["paid"], ttlMs: MIN }),
        );
        clock.tick(2 * MIN);
        value(await setStatus("s1", "suspended"));
        const snap = await store.snapshot("t", []);
        expect(snap.tenantStatus).toBe("suspended");
        expect(snap.balances.available.paid).toBe(100);
        expect((await store.auditRecords(0, 10)).map((r) => r.kind)).toEqual([
          "grant",
          "hold",
          "expiry",
          "tenant_status",
        ]);
      });

      it("keeps each tenant's status its own", async () => {
        value(await setStatus("s1", "suspended", "abuse", "a"));
        expect((await store.snapshot("a", [])).tenantStatus).toBe("suspended");
        expect((await store.snapshot("b", [])).tenantStatus).toBe("active");
      });

      it("refuses an unknown status or an empty reason as a programming error, writing nothing", async () => {
        await expect(
          store.setTenantStatus({
            tenant: "t",
            key: "k",
            status: "gone" as "active",
            reason: "x",
          }),
        ).rejects.toThrow(TypeError);
        await expect(setStatus("k", "suspended", "")).rejects.toThrow(TypeError);
        expect(await store.auditRecords(0, 10)).toEqual([]);
      });

      it("lets the database refuse a status it does not know", async () => {
        value(await setStatus("s1", "suspended"));
        await expect(sut.raw("UPDATE tenants SET status = 'gone'")).rejects.toThrow();
        expect((await store.tenantInfo("t")).status).toBe("suspended");
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

      it("keeps a record callback's replay with the idempotency record, whatever is masked", async () => {
        const masked = await factory.open(clock, { maskFields: ["context.response"] });
        try {
          value(
            await masked.store.grant({
              tenant: "r",
              key: "g",
              class: "paid",
              amount: 100,
              source: "t",
            }),
          );
          const seen: unknown[] = [];
          const debit = {
            tenant: "r",
            key: "d",
            amount: 30,
            drawOrder: ["paid"] as const,
            record: (outcome: { parts: readonly { amount: number }[]; holdId?: string }) => {
              seen.push(outcome);
              const left = 100 - outcome.parts.reduce((sum, p) => sum + p.amount, 0);
              return { audit: { response: { left } }, replay: { left } };
            },
          };
          const first = value(await masked.store.debit(debit));
          expect(first.replay).toEqual({ left: 70 });
          expect(seen).toEqual([{ parts: first.parts }]);
          const again = await masked.store.debit({
            ...debit,
            record: () => ({ audit: {}, replay: 0 }),
          });
          expect(again).toMatchObject({
            ok: true,
            code: "exists",
            value: { replay: { left: 70 } },
          });
          expect((await masked.store.idempotencyRecords("r", ["d"])).get("d")).toMatchObject({
            op: "debit",
            value: { replay: { left: 70 } },
          });
          const held = value(
            await masked.store.hold({ ...debit, key: "h", amount: 10, ttlMs: 60_000 }),
          );
          expect(held.replay).toEqual({ left: 90 });
          expect(seen.at(-1)).toEqual({ parts: held.parts, holdId: held.holdId });
          const records = (await masked.store.auditRecords(0, 100)).filter((r) => r.tenant === "r");
          expect(records.map((r) => r.data.context)).toContainEqual({ response: "[masked]" });
          expect((await masked.store.verifyAudit()).ok).toBe(true);
        } finally {
          await masked.close();
        }
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

    describe("service events and audit queries", () => {
      const principalContext = (id: string, decisionId: string) => ({
        decision_id: decisionId,
        principal: { kind: "user", id, tenant: "t", issuer: "https://issuer.test" },
      });

      /** Three tenants' worth of records at three times: 10 records, seqs 1..10. */
      const seed = async () => {
        value(await fund("t", 100)); // 1 grant t @T0
        value(await fund("u", 100)); // 2 grant u @T0
        clock.tick(MIN);
        const d1 = value(
          await store.debit({
            tenant: "t",
            key: "d1",
            amount: 1,
            drawOrder: ["paid"],
            audit: principalContext("alice", "dec_1"),
          }),
        ); // 3 debit t alice dec_1 @T0+1m
        const deny = value(
          await store.recordDecision({
            tenant: "t",
            key: "deny",
            audit: principalContext("bob", "dec_2"),
          }),
        ); // 4 decision t bob dec_2
        const d2 = value(
          await store.debit({
            tenant: "u",
            key: "d2",
            amount: 1,
            drawOrder: ["paid"],
            audit: { ...principalContext("alice", "dec_3"), principal: { id: "alice" } },
          }),
        ); // 5 debit u alice dec_3
        clock.tick(MIN);
        const policy = await store.recordEvent({
          kind: "policy",
          tenant: null,
          data: { event: "bundle_activated", revision: "r2", digest: "sha256:ab" },
        }); // 6 policy @T0+2m
        const auth = await store.recordEvent({
          kind: "auth",
          tenant: "t",
          data: { reason: "token_expired", issuer: "https://issuer.test" },
        }); // 7 auth t
        for (let i = 0; i < 3; i++) {
          value(
            await store.recordDecision({
              tenant: "t",
              key: `more${i}`,
              audit: principalContext("alice", `dec_m${i}`),
            }),
          ); // 8..10 decision t alice
        }
        return { d1, deny, d2, policy, auth };
      };
      const seqs = (page: { records: readonly { seq: number }[] }) =>
        page.records.map((r) => r.seq);

      it("appends events as chained records under context, readable, verified and exported", async () => {
        value(await fund("t", 10));
        const [a, b] = await Promise.all([
          store.recordEvent({ kind: "policy", tenant: null, data: { event: "bundle_rejected" } }),
          store.recordEvent({ kind: "auth", tenant: "t", data: { reason: "bad_signature" } }),
        ]);
        expect([a.auditSeq, b.auditSeq]).toEqual([2, 3]);
        // No idempotency: the same event again is a new record.
        const c = await store.recordEvent({
          kind: "auth",
          tenant: "t",
          data: { reason: "bad_signature" },
        });
        expect(c.auditSeq).toBe(4);
        const records = await store.auditRecords(0, 10);
        expect(records.map((r) => [r.kind, r.tenant])).toEqual([
          ["grant", "t"],
          ["policy", null],
          ["auth", "t"],
          ["auth", "t"],
        ]);
        expect(records[1]).toMatchObject({
          at_ms: T0,
          data: { context: { event: "bundle_rejected" } },
        });
        expect(records[2]?.data).toEqual({ context: { reason: "bad_signature" } });
        expect(await store.verifyAudit()).toMatchObject({ ok: true, count: 4 });
        const lines: string[] = [];
        expect(await store.exportAudit((line) => void lines.push(line))).toBe(4);
        expect((await verifyChain(parseJsonLines(lines.join("")))).ok).toBe(true);
        expect((await store.balances("t")).available.paid).toBe(10);
      });

      it("refuses an event with too-large or malformed data and writes nothing, alone in its batch", async () => {
        const big = { blob: "x".repeat(16 * 1024) };
        const [tooBig, fine] = await Promise.allSettled([
          store.recordEvent({ kind: "auth", tenant: null, data: big }),
          store.recordEvent({ kind: "auth", tenant: null, data: { reason: "ok" } }),
        ]);
        expect(tooBig.status).toBe("rejected");
        expect((tooBig as PromiseRejectedResult).reason).toBeInstanceOf(TypeError);
        expect(fine).toMatchObject({ status: "fulfilled", value: { auditSeq: 1 } });
        await expect(
          store.recordEvent({ kind: "auth", tenant: null, data: { ratio: 0.5 } }),
        ).rejects.toThrow(TypeError);
        await expect(
          store.recordEvent({ kind: "debit" as "auth", tenant: null, data: {} }),
        ).rejects.toThrow(TypeError);
        await expect(store.recordEvent({ kind: "auth", tenant: "", data: {} })).rejects.toThrow(
          TypeError,
        );
        expect((await store.auditRecords(0, 10)).map((r) => r.seq)).toEqual([1]);
        expect(await sut.raw("SELECT seq FROM audit_records")).toHaveLength(1);
        expect(await store.verifyAudit()).toMatchObject({ ok: true, count: 1 });
      });

      it("filters by tenant, principal, decision id, kind and time range, ascending", async () => {
        const s = await seed();
        expect(seqs(await store.queryAudit({ tenant: "t", limit: 100 }))).toEqual([
          1, 3, 4, 7, 8, 9, 10,
        ]);
        expect(seqs(await store.queryAudit({ tenant: "u", limit: 100 }))).toEqual([2, 5]);
        expect(seqs(await store.queryAudit({ principal: "alice", limit: 100 }))).toEqual([
          3, 5, 8, 9, 10,
        ]);
        expect(
          seqs(await store.queryAudit({ principal: "alice", tenant: "u", limit: 100 })),
        ).toEqual([5]);
        const byDecision = await store.queryAudit({ decisionId: "dec_2", limit: 100 });
        expect(byDecision).toEqual({
          records: [expect.objectContaining({ seq: s.deny.auditSeq, kind: "decision" })],
          nextAfterSeq: null,
        });
        expect(byDecision.records[0]?.data.context).toMatchObject({ principal: { id: "bob" } });
        expect(seqs(await store.queryAudit({ decisionId: "dec_1", limit: 100 }))).toEqual([
          s.d1.auditSeq,
        ]);
        expect(seqs(await store.queryAudit({ kind: "debit", limit: 100 }))).toEqual([3, 5]);
        expect(seqs(await store.queryAudit({ kind: "policy", limit: 100 }))).toEqual([
          s.policy.auditSeq,
        ]);
        expect(seqs(await store.queryAudit({ kind: "auth", tenant: "t", limit: 100 }))).toEqual([
          s.auth.auditSeq,
        ]);
        // fromMs inclusive, toMs exclusive.
        expect(
          seqs(await store.queryAudit({ fromMs: T0 + MIN, toMs: T0 + 2 * MIN, limit: 100 })),
        ).toEqual([3, 4, 5]);
        expect(seqs(await store.queryAudit({ fromMs: T0 + 2 * MIN, limit: 100 }))).toEqual([
          6, 7, 8, 9, 10,
        ]);
        expect(seqs(await store.queryAudit({ toMs: T0 + MIN, limit: 100 }))).toEqual([1, 2]);
        expect(
          seqs(
            await store.queryAudit({
              tenant: "t",
              principal: "alice",
              kind: "decision",
              fromMs: T0 + 2 * MIN,
              limit: 100,
            }),
          ),
        ).toEqual([8, 9, 10]);
        // Records as stored: they verify as a chain segment.
        const all = await store.queryAudit({ limit: 100 });
        expect(all.records).toEqual(await store.auditRecords(0, 100));
        expect((await verifyChain(all.records)).ok).toBe(true);
      });

      it("answers an empty page for no match", async () => {
        await seed();
        for (const q of [
          { tenant: "nobody" },
          { principal: "carol" },
          { decisionId: "dec_none" },
          { kind: "revocation" as const },
          { fromMs: T0 + 10 * MIN },
          { toMs: T0 },
          { afterSeq: 10 },
          { principal: "bob", tenant: "u" },
        ]) {
          expect(await store.queryAudit({ ...q, limit: 10 })).toEqual({
            records: [],
            nextAfterSeq: null,
          });
        }
      });

      it("pages with nextAfterSeq until a short page", async () => {
        await seed();
        const p1 = await store.queryAudit({ principal: "alice", limit: 2 });
        expect(p1).toMatchObject({ nextAfterSeq: 5 });
        expect(seqs(p1)).toEqual([3, 5]);
        const p2 = await store.queryAudit({ principal: "alice", limit: 2, afterSeq: 5 });
        expect(seqs(p2)).toEqual([8, 9]);
        expect(p2.nextAfterSeq).toBe(9);
        const p3 = await store.queryAudit({ principal: "alice", limit: 2, afterSeq: 9 });
        expect(seqs(p3)).toEqual([10]);
        expect(p3.nextAfterSeq).toBeNull();
        // A full last page says there may be more; the next page is then empty.
        const exact = await store.queryAudit({ tenant: "u", limit: 2 });
        expect(exact.nextAfterSeq).toBe(5);
        expect(
          await store.queryAudit({ tenant: "u", limit: 2, afterSeq: exact.nextAfterSeq ?? 0 }),
        ).toEqual({ records: [], nextAfterSeq: null });
      });

      it("caps the limit at limits.auditQueryRecordsMax and refuses malformed queries", async () => {
        const n = limits.auditQueryRecordsMax + 1;
        await Promise.all(
          Array.from({ length: n }, (_, i) =>
            store.recordEvent({ kind: "auth", tenant: "t", data: { attempt: i } }),
          ),
        );
        const page = await store.queryAudit({ tenant: "t", limit: 10 * n });
        expect(page.records).toHaveLength(limits.auditQueryRecordsMax);
        expect(page.nextAfterSeq).toBe(limits.auditQueryRecordsMax);
        const rest = await store.queryAudit({
          tenant: "t",
          limit: 10 * n,
          afterSeq: page.nextAfterSeq ?? 0,
        });
        expect(seqs(rest)).toEqual([n]);
        expect(rest.nextAfterSeq).toBeNull();
        for (const bad of [
          { limit: 0 },
          { limit: 1.5 },
          { limit: 10, afterSeq: -1 },
          { limit: 10, kind: "nope" as "auth" },
          { limit: 10, tenant: "" },
          { limit: 10, fromMs: 0.5 },
        ]) {
          await expect(store.queryAudit(bad)).rejects.toThrow(TypeError);
        }
      });

      it("writes records whose ids cannot be indexed (NUL, over the byte bound) and leaves them out of the index", async () => {
        const long = "é".repeat(limits.auditIndexValueBytesMax);
        const d = value(
          await store.recordDecision({
            tenant: "t",
            key: "odd",
            audit: { principal: { id: "a\u0000b" }, decision_id: long },
          }),
        );
        const e = await store.recordEvent({
          kind: "auth",
          tenant: null,
          data: { principal: { id: "p1" }, decision_id: "dec_ok", note: "x\u0000y" },
        });
        expect(
          await sut.raw("SELECT principal, decision_id FROM audit_records ORDER BY seq"),
        ).toEqual([
          { principal: null, decision_id: null },
          { principal: "p1", decision_id: "dec_ok" },
        ]);
        const [record] = (await store.queryAudit({ tenant: "t", limit: 10 })).records;
        expect(record).toMatchObject({ seq: d.auditSeq, data: { context: { decision_id: long } } });
        expect(seqs(await store.queryAudit({ principal: "p1", limit: 10 }))).toEqual([e.auditSeq]);
        expect(seqs(await store.queryAudit({ decisionId: "dec_ok", limit: 10 }))).toEqual([
          e.auditSeq,
        ]);
      });

      it("answers masked records, and masked principals are not indexed by their raw value", async () => {
        const masked = await factory.open(clock, {
          maskFields: ["context.email", "context.principal.id"],
        });
        try {
          value(
            await masked.store.recordDecision({
              tenant: "m",
              key: "k",
              audit: { email: "a@b.c", ...principalContext("secret-user", "dec_m") },
            }),
          );
          await masked.store.recordEvent({
            kind: "auth",
            tenant: "m",
            data: { email: "x@y.z", reason: "unknown_issuer" },
          });
          const page = await masked.store.queryAudit({ tenant: "m", limit: 10 });
          expect(page.records.map((r) => r.data.context)).toEqual([
            expect.objectContaining({ email: "[masked]", decision_id: "dec_m" }),
            { email: "[masked]", reason: "unknown_issuer" },
          ]);
          expect(
            (await masked.store.queryAudit({ principal: "secret-user", limit: 10 })).records,
          ).toEqual([]);
          expect(seqs(await masked.store.queryAudit({ decisionId: "dec_m", limit: 10 }))).toEqual([
            1,
          ]);
          const raw = JSON.stringify(await masked.raw("SELECT * FROM audit_records"));
          expect(raw).not.toContain("a@b.c");
          expect(raw).not.toContain("x@y.z");
          expect(raw).not.toContain("secret-user");
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
