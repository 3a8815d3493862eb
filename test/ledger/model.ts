/**
 * A deliberately simple in-memory ledger for model-based tests: lists of grants and holds, no
 * SQL, no batching, no entries. It reuses the pure draw-down planner (tested on its own in
 * draw.test.ts) so that what the property test compares is the stores' state handling.
 * Floors are always 0 and grants are effective at once, which keeps the model small.
 */
import {
  type DrawClass,
  mergeParts,
  planDraw,
  splitParts,
  sumParts,
} from "../../src/ledger/draw.js";
import type { CreditClass, Part } from "../../src/ledger/types.js";
import { creditClasses, zeroAmounts } from "../../src/ledger/types.js";

interface ModelGrant {
  readonly grantId: string;
  readonly class: CreditClass;
  remaining: number;
  readonly expiresAtMs: number | null;
  readonly priority: number;
  readonly effectiveAtMs: number;
  expired: boolean;
}

interface ModelHold {
  readonly parts: readonly Part[];
  readonly amount: number;
  readonly drawOrder: readonly CreditClass[];
  readonly expiresAtMs: number;
  state: "active" | "committed" | "released" | "expired";
}

export type ModelOutcome = { code: string; value?: unknown };

export class LedgerModel {
  readonly grants: ModelGrant[] = [];
  readonly holds = new Map<string, ModelHold>();
  readonly transfers = new Map<string, { part: Part; reversed: number }[]>();
  /** Requests that succeeded, by key: their fingerprint and the store's original value. */
  readonly done = new Map<string, { fingerprint: string; value: unknown }>();

  mature(nowMs: number): void {
    for (const hold of this.holds.values()) {
      if (hold.state === "active" && hold.expiresAtMs <= nowMs) {
        hold.state = "expired";
        for (const part of hold.parts) this.giveBack(part, nowMs);
      }
    }
    for (const g of this.grants) {
      if (!g.expired && g.expiresAtMs !== null && g.expiresAtMs <= nowMs) {
        g.expired = true;
        g.remaining = 0;
      }
    }
  }

  giveBack(part: Part, nowMs: number): void {
    const g = this.grants.find((x) => x.grantId === part.grantId);
    if (!g) throw new Error("model: unknown grant");
    // Credit given back to an expired grant is lost (it expires at once).
    if (!g.expired && (g.expiresAtMs === null || g.expiresAtMs > nowMs)) g.remaining += part.amount;
  }

  classes(): Record<CreditClass, DrawClass> {
    const out = {} as Record<CreditClass, DrawClass>;
    for (const cls of creditClasses) {
      const grants = this.grants.filter((g) => g.class === cls && !g.expired && g.remaining > 0);
      out[cls] = { available: grants.reduce((s, g) => s + g.remaining, 0), grants };
    }
    return out;
  }

  available(): Record<CreditClass, number> {
    const out = zeroAmounts();
    for (const g of this.grants) if (!g.expired) out[g.class] += g.remaining;
    return out;
  }

  held(): Record<CreditClass, number> {
    const out = zeroAmounts();
    for (const h of this.holds.values()) {
      if (h.state === "active") for (const p of h.parts) out[p.class] += p.amount;
    }
    return out;
  }

  /** Replays and conflicts come first, as in the store. */
  replay(key: string, fingerprint: string): ModelOutcome | null {
    const prior = this.done.get(key);
    if (!prior) return null;
    if (prior.fingerprint !== fingerprint) return { code: "exists_with_different_request" };
    return { code: "exists", value: prior.value };
  }

  draw(amount: number, order: readonly CreditClass[]): Part[] | null {
    const plan = planDraw(amount, order, this.classes());
    if (!plan.ok) return null;
    for (const p of plan.parts) this.take(p);
    return [...plan.parts];
  }

  take(part: Part): void {
    const g = this.grants.find((x) => x.grantId === part.grantId)!;
    g.remaining -= part.amount;
    if (g.remaining < 0) throw new Error("model: grant overdrawn");
  }

  commit(
    holdKey: string,
    amount: number,
    overage: number,
    nowMs: number,
  ): ModelOutcome & { parts?: Part[] } {
    const hold = this.holds.get(holdKey);
    if (!hold) return { code: "hold_not_found" };
    const stateCode = {
      active: null,
      expired: "hold_expired",
      committed: "hold_already_committed",
      released: "hold_released",
    }[hold.state];
    if (stateCode) return { code: stateCode };
    if (amount > hold.amount + overage) return { code: "commit_exceeds_hold" };
    let extra: Part[] = [];
    if (amount > hold.amount) {
      const plan = planDraw(amount - hold.amount, hold.drawOrder, this.classes());
      if (!plan.ok) return { code: plan.code };
      extra = [...plan.parts];
    }
    const { taken, rest } = splitParts(hold.parts, Math.min(amount, hold.amount));
    hold.state = "committed";
    for (const p of rest) this.giveBack(p, nowMs);
    for (const p of extra) this.take(p);
    return { code: "ok", parts: mergeParts([...taken, ...extra]) };
  }

  reverse(
    transferKey: string,
    amount: number | undefined,
    nowMs: number,
  ): ModelOutcome & { parts?: Part[] } {
    const entries = this.transfers.get(transferKey);
    if (!entries) return { code: "transfer_not_found" };
    const left = entries.reduce((s, e) => s + e.part.amount - e.reversed, 0);
    const want = amount ?? left;
    if (want <= 0 || want > left) return { code: "reversal_exceeds_remaining" };
    const parts: Part[] = [];
    let need = want;
    for (const e of [...entries].reverse()) {
      const take = Math.min(need, e.part.amount - e.reversed);
      if (take <= 0) continue;
      need -= take;
      e.reversed += take;
      parts.push({ ...e.part, amount: take });
      this.giveBack({ ...e.part, amount: take }, nowMs);
    }
    return { code: "ok", parts };
  }

  static total(parts: readonly Part[]): number {
    return sumParts(parts);
  }
}
