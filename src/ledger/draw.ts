/**
 * Pure draw-down math. Given the open grants and available balance of each class, a draw order,
 * per-class floors and an amount, plan which grants pay, or say why nothing can be paid.
 */
import type { CreditClass, Floors, Part } from "./types.js";

export interface DrawGrant {
  readonly grantId: string;
  readonly class: CreditClass;
  readonly remaining: number;
  /** Lower draws first. */
  readonly priority: number;
  readonly expiresAtMs: number | null;
  readonly effectiveAtMs: number;
}

export interface DrawClass {
  /** Posted minus held. */
  readonly available: number;
  readonly grants: readonly DrawGrant[];
}

export type DrawPlan =
  | { readonly ok: true; readonly parts: readonly Part[] }
  | { readonly ok: false; readonly code: "insufficient_credits" };

/** Priority, then soonest expiry (never-expiring last), then oldest, then id for a total order. */
function compareGrants(a: DrawGrant, b: DrawGrant): number {
  if (a.priority !== b.priority) return a.priority - b.priority;
  const ea = a.expiresAtMs ?? Number.POSITIVE_INFINITY;
  const eb = b.expiresAtMs ?? Number.POSITIVE_INFINITY;
  if (ea !== eb) return ea < eb ? -1 : 1;
  if (a.effectiveAtMs !== b.effectiveAtMs) return a.effectiveAtMs - b.effectiveAtMs;
  return a.grantId < b.grantId ? -1 : a.grantId > b.grantId ? 1 : 0;
}

/**
 * Two passes: first every class in draw order pays from its grants without going below zero;
 * only then does each class, again in draw order, go down to its floor. So overdraft is used
 * only when no listed class can pay from credit it actually has. All-or-nothing.
 */
export function planDraw(
  amount: number,
  drawOrder: readonly CreditClass[],
  classes: Readonly<Record<CreditClass, DrawClass>>,
  floors: Floors = {},
): DrawPlan {
  const parts: Part[] = [];
  let need = amount;
  const drawn = new Map<CreditClass, number>();
  for (const cls of drawOrder) {
    if (need === 0) break;
    const state = classes[cls];
    let cap = Math.max(0, state.available);
    for (const grant of [...state.grants].sort(compareGrants)) {
      if (need === 0 || cap === 0) break;
      const take = Math.min(need, cap, grant.remaining);
      if (take <= 0) continue;
      parts.push({ class: cls, grantId: grant.grantId, amount: take });
      need -= take;
      cap -= take;
      drawn.set(cls, (drawn.get(cls) ?? 0) + take);
    }
  }
  for (const cls of drawOrder) {
    if (need === 0) break;
    const floor = floors[cls] ?? 0;
    const room = classes[cls].available - (drawn.get(cls) ?? 0) - floor;
    const take = Math.min(need, room);
    if (take <= 0) continue;
    parts.push({ class: cls, grantId: null, amount: take });
    need -= take;
  }
  if (need > 0) return { ok: false, code: "insufficient_credits" };
  return { ok: true, parts: mergeParts(parts) };
}

/** Adjacent parts on the same grant and class collapse into one (one entry per grant touched). */
export function mergeParts(parts: readonly Part[]): Part[] {
  const out: Part[] = [];
  for (const part of parts) {
    const i = out.findIndex((p) => p.class === part.class && p.grantId === part.grantId);
    if (i >= 0) out[i] = { ...out[i]!, amount: out[i]!.amount + part.amount };
    else out.push(part);
  }
  return out;
}

/** Takes `amount` from the front of `parts`: what a commit posts, and what it gives back. */
export function splitParts(
  parts: readonly Part[],
  amount: number,
): { taken: Part[]; rest: Part[] } {
  const taken: Part[] = [];
  const rest: Part[] = [];
  let need = amount;
  for (const part of parts) {
    const take = Math.min(need, part.amount);
    if (take > 0) taken.push({ ...part, amount: take });
    if (part.amount - take > 0) rest.push({ ...part, amount: part.amount - take });
    need -= take;
  }
  if (need > 0) throw new RangeError("splitParts: amount exceeds the parts");
  return { taken, rest };
}

export function sumParts(parts: readonly Part[]): number {
  return parts.reduce((sum, part) => sum + part.amount, 0);
}

/** What a hold still reserves: draws take its parts from the front, in the hold's part order. */
export function remainingParts(parts: readonly Part[], drawn: number): Part[] {
  return splitParts(parts, drawn).rest;
}
