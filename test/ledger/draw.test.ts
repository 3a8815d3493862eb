import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type DrawClass,
  type DrawGrant,
  planDraw,
  splitParts,
  sumParts,
} from "../../src/ledger/draw.js";
import { type CreditClass, creditClasses } from "../../src/ledger/types.js";

const empty: DrawClass = { available: 0, grants: [] };
const grant = (id: string, remaining: number, extra: Partial<DrawGrant> = {}): DrawGrant => ({
  grantId: id,
  class: "paid",
  remaining,
  priority: 0,
  expiresAtMs: null,
  effectiveAtMs: 0,
  ...extra,
});
const classes = (over: Partial<Record<CreditClass, DrawClass>>) => ({
  trial: empty,
  paid: empty,
  promo: empty,
  admin: empty,
  ...over,
});

describe("planDraw", () => {
  it("draws by priority, then soonest expiry (never last), then oldest", () => {
    const grants = [
      grant("a", 5, { effectiveAtMs: 1 }),
      grant("b", 5, { effectiveAtMs: 0 }),
      grant("c", 5, { expiresAtMs: 100 }),
      grant("d", 5, { priority: -1 }),
    ];
    const plan = planDraw(17, ["paid"], classes({ paid: { available: 20, grants } }));
    expect(plan).toEqual({
      ok: true,
      parts: [
        { class: "paid", grantId: "d", amount: 5 },
        { class: "paid", grantId: "c", amount: 5 },
        { class: "paid", grantId: "b", amount: 5 },
        { class: "paid", grantId: "a", amount: 2 },
      ],
    });
  });

  it("uses overdraft only after every listed class paid what it has", () => {
    const plan = planDraw(
      12,
      ["paid", "promo"],
      classes({
        paid: { available: 5, grants: [grant("p", 5)] },
        promo: { available: 4, grants: [grant("q", 4, { class: "promo" })] },
      }),
      { paid: -10 },
    );
    expect(plan).toEqual({
      ok: true,
      parts: [
        { class: "paid", grantId: "p", amount: 5 },
        { class: "promo", grantId: "q", amount: 4 },
        { class: "paid", grantId: null, amount: 3 },
      ],
    });
  });

  it("never takes more than available even when grants show more (a class in overdraft)", () => {
    const plan = planDraw(
      5,
      ["paid"],
      classes({ paid: { available: 3, grants: [grant("p", 10)] } }),
    );
    expect(plan).toEqual({ ok: false, code: "insufficient_credits" });
  });

  it("is all-or-nothing, never overdraws a grant, and respects floors (property)", () => {
    const cls = fc.constantFrom(...creditClasses);
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            cls,
            remaining: fc.integer({ min: 0, max: 50 }),
            priority: fc.integer({ min: 0, max: 3 }),
          }),
          {
            maxLength: 8,
          },
        ),
        fc.uniqueArray(cls, { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 200 }),
        fc.dictionary(cls, fc.integer({ min: -30, max: 0 })),
        (raw, order, amount, floors) => {
          const byClass = classes({});
          const state: Record<string, DrawClass> = { ...byClass };
          raw.forEach((g, i) => {
            const prior = state[g.cls]!;
            state[g.cls] = {
              available: prior.available + g.remaining,
              grants: [
                ...prior.grants,
                grant(`g${i}`, g.remaining, { class: g.cls, priority: g.priority }),
              ],
            };
          });
          const plan = planDraw(amount, order, state as Record<CreditClass, DrawClass>, floors);
          const capacity = order.reduce(
            (sum, c) => sum + state[c]!.available - (floors[c] ?? 0),
            0,
          );
          expect(plan.ok).toBe(capacity >= amount);
          if (!plan.ok) return;
          expect(sumParts(plan.parts)).toBe(amount);
          for (const part of plan.parts) {
            expect(order).toContain(part.class);
            if (part.grantId !== null) {
              const g = state[part.class]!.grants.find((x) => x.grantId === part.grantId)!;
              expect(part.amount).toBeLessThanOrEqual(g.remaining);
            }
          }
          for (const c of order) {
            const taken = sumParts(plan.parts.filter((p) => p.class === c));
            expect(state[c]!.available - taken).toBeGreaterThanOrEqual(floors[c] ?? 0);
          }
          const grants = plan.parts.filter((p) => p.grantId !== null).map((p) => p.grantId);
          expect(new Set(grants).size).toBe(grants.length);
        },
      ),
    );
  });
});

describe("splitParts", () => {
  it("takes from the front and returns the rest", () => {
    const parts = [
      { class: "paid" as const, grantId: "a", amount: 5 },
      { class: "promo" as const, grantId: "b", amount: 5 },
    ];
    expect(splitParts(parts, 7)).toEqual({
      taken: [parts[0], { ...parts[1], amount: 2 }],
      rest: [{ ...parts[1], amount: 3 }],
    });
    expect(() => splitParts(parts, 11)).toThrow(RangeError);
  });
});
