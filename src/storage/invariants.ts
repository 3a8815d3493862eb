/**
 * The ledger's invariants, checked from what a store holds. Adapters gather the rows with their
 * own SQL; the rules live here once so both stores are judged the same way.
 */
import { remainingParts } from "../ledger/draw.js";
import type { StoredLedger } from "../ledger/reconcile.js";
import type { HoldRow } from "../ledger/rows.js";

/** The stored rows the chain is reconciled with, plus every draw for the hold checks. */
export interface InvariantInput extends StoredLedger {
  /** Every draw, with the sum of its transfer's own entries (reversals are other transfers). */
  readonly holdDraws: readonly {
    holdId: string;
    transferId: string;
    amount: number;
    entrySum: number;
  }[];
}

export function findInvariantProblems(input: InvariantInput): string[] {
  const problems: string[] = [];
  const key = (tenant: string, cls: string) => `${tenant}/${cls}`;
  const sums = new Map(input.entrySums.map((s) => [key(s.tenant, s.class), s.sum]));
  const held = new Map<string, number>();
  const heldByGrant = new Map<string, number>();
  const drawnByHold = new Map<string, number>();
  for (const d of input.holdDraws) {
    drawnByHold.set(d.holdId, (drawnByHold.get(d.holdId) ?? 0) + d.amount);
    if (d.entrySum !== -d.amount) {
      problems.push(`draw ${d.transferId}: entries sum ${d.entrySum} != -${d.amount}`);
    }
  }
  for (const hold of input.holds) {
    problems.push(...holdProblems(hold, drawnByHold.get(hold.holdId) ?? 0));
    if (hold.state !== "active" || hold.drawn < 0 || hold.drawn > hold.amount) continue;
    // An active hold reserves what its draws left.
    for (const part of remainingParts(hold.parts, hold.drawn)) {
      const k = key(hold.tenant, part.class);
      held.set(k, (held.get(k) ?? 0) + part.amount);
      if (part.grantId !== null)
        heldByGrant.set(part.grantId, (heldByGrant.get(part.grantId) ?? 0) + part.amount);
    }
  }
  const seen = new Set<string>();
  for (const b of input.balances) {
    const k = key(b.tenant, b.class);
    seen.add(k);
    if (b.posted !== (sums.get(k) ?? 0)) {
      problems.push(`${k}: posted ${b.posted} != sum of entries ${sums.get(k) ?? 0}`);
    }
    if (b.held !== (held.get(k) ?? 0)) {
      problems.push(`${k}: held ${b.held} != sum of active holds ${held.get(k) ?? 0}`);
    }
  }
  for (const [k, sum] of sums) {
    if (!seen.has(k) && sum !== 0) problems.push(`${k}: entries without a balance row`);
  }
  const grantSums = new Map(input.grantEntrySums.map((s) => [s.grantId, s.sum]));
  for (const g of input.grants) {
    const entries = grantSums.get(g.grantId) ?? 0;
    const reserved = heldByGrant.get(g.grantId) ?? 0;
    if (g.remaining < 0 || g.remaining > g.amount) {
      problems.push(`grant ${g.grantId}: remaining ${g.remaining} outside [0, ${g.amount}]`);
    }
    if (g.status === "pending") {
      if (entries !== 0 || g.remaining !== g.amount)
        problems.push(`grant ${g.grantId}: pending but moved`);
    } else if (g.remaining !== entries - reserved) {
      problems.push(
        `grant ${g.grantId}: remaining ${g.remaining} != entries ${entries} - held ${reserved}`,
      );
    }
  }
  return problems;
}

/**
 * amount = drawn + settled by a commit + released, each part accounted once: drawn equals the
 * hold's draws; an active hold has released nothing; a released or expired one gave back
 * everything not drawn; a committed one settled amount − drawn − released ≥ 0 (released is
 * unknown, NULL, for holds committed before schema version 3).
 */
function holdProblems(hold: HoldRow, drawnByDraws: number): string[] {
  const problems: string[] = [];
  const h = `hold ${hold.holdId}`;
  if (hold.drawn < 0 || hold.drawn > hold.amount) {
    problems.push(`${h}: drawn ${hold.drawn} outside [0, ${hold.amount}]`);
  }
  if (hold.drawn !== drawnByDraws) {
    problems.push(`${h}: drawn ${hold.drawn} != sum of its draws ${drawnByDraws}`);
  }
  const partsSum = hold.parts.reduce((sum, p) => sum + p.amount, 0);
  if (partsSum !== hold.amount)
    problems.push(`${h}: parts sum ${partsSum} != amount ${hold.amount}`);
  if (hold.state === "active") {
    if (hold.released !== null) problems.push(`${h}: active but released ${hold.released}`);
  } else if (hold.state === "committed") {
    if (hold.released !== null && (hold.released < 0 || hold.drawn + hold.released > hold.amount)) {
      problems.push(
        `${h}: drawn ${hold.drawn} + released ${hold.released} > amount ${hold.amount}`,
      );
    }
  } else if (hold.released === null || hold.drawn + hold.released !== hold.amount) {
    problems.push(
      `${h}: ${hold.state} with drawn ${hold.drawn} + released ${hold.released} != amount ${hold.amount}`,
    );
  }
  return problems;
}
