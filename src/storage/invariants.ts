/**
 * The ledger's invariants, checked from what a store holds. Adapters gather the rows with their
 * own SQL; the rules live here once so both stores are judged the same way.
 */
import type { GrantRow, HoldRow } from "../ledger/rows.js";
import type { CreditClass } from "../ledger/types.js";

export interface InvariantInput {
  readonly balances: readonly {
    tenant: string;
    class: CreditClass;
    posted: number;
    held: number;
  }[];
  /** Sum of entries per tenant and class. */
  readonly entrySums: readonly { tenant: string; class: CreditClass; sum: number }[];
  /** Sum of entries per grant. */
  readonly grantEntrySums: readonly { grantId: string; sum: number }[];
  readonly grants: readonly GrantRow[];
  readonly activeHolds: readonly HoldRow[];
}

export function findInvariantProblems(input: InvariantInput): string[] {
  const problems: string[] = [];
  const key = (tenant: string, cls: string) => `${tenant}/${cls}`;
  const sums = new Map(input.entrySums.map((s) => [key(s.tenant, s.class), s.sum]));
  const held = new Map<string, number>();
  const heldByGrant = new Map<string, number>();
  for (const hold of input.activeHolds) {
    for (const part of hold.parts) {
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
