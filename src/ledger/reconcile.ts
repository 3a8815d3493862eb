/**
 * The ledger as the audit chain tells it. Every value-carrying row (balances, grants, holds, the
 * entries' sums) is derivable from the hash-chained records: replaying them in order with the
 * same draw-down rules the ledger uses gives the state the stored rows must have. A row changed
 * behind the trail's back (credits minted in a balance and its entries, a grant's remaining
 * raised, a hold's state flipped) disagrees with the replay, and the first disagreeing row is
 * named with the last record that shaped it.
 */
import type { AuditRecord } from "../audit/chain.js";
import { remainingParts, splitParts } from "./draw.js";
import type { GrantRow, HoldRow } from "./rows.js";
import { type CreditClass, creditClasses, type Part } from "./types.js";

/** What a store holds, read in one snapshot together with the chain head it corresponds to. */
export interface StoredLedger {
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
  /** Every hold, active or resolved. */
  readonly holds: readonly HoldRow[];
}

/** One row that disagrees with the chain, and the last record that shaped it (0: none did). */
export interface LedgerMismatch {
  readonly row: string;
  readonly seq: number;
  /** The tenant whose row it is. */
  readonly tenant: string;
}

interface ReplayGrant {
  readonly tenant: string;
  readonly class: CreditClass;
  readonly amount: number;
  readonly expiresAtMs: number | null;
  remaining: number;
  status: "pending" | "active" | "expired";
  entrySum: number;
  seq: number;
}

interface ReplayHold {
  readonly tenant: string;
  readonly amount: number;
  readonly parts: readonly Part[];
  drawn: number;
  state: HoldRow["state"];
  seq: number;
}

interface ReplayTenant {
  readonly posted: Record<CreditClass, number>;
  readonly held: Record<CreditClass, number>;
  seq: number;
}

type Data = { readonly [key: string]: unknown };

/** A record whose value fields cannot be read (masked, or not what the ledger writes). */
export class UnreadableRecord extends Error {
  constructor(
    readonly seq: number,
    field: string,
  ) {
    super(`record ${seq}: ${field} is not readable`);
  }
}

function int(data: Data, field: string, seq: number): number {
  const value = data[field];
  if (typeof value !== "number" || !Number.isSafeInteger(value))
    throw new UnreadableRecord(seq, field);
  return value;
}

function str(data: Data, field: string, seq: number): string {
  const value = data[field];
  if (typeof value !== "string") throw new UnreadableRecord(seq, field);
  return value;
}

function isClass(value: unknown): value is CreditClass {
  return (creditClasses as readonly unknown[]).includes(value);
}

function parts(data: Data, seq: number): Part[] {
  const value = data.parts;
  if (!Array.isArray(value)) throw new UnreadableRecord(seq, "parts");
  return value.map((item: unknown) => {
    const part = item as Data;
    if (typeof part !== "object" || part === null || !isClass(part.class))
      throw new UnreadableRecord(seq, "parts");
    const grantId = part.grant_id;
    if (grantId !== null && typeof grantId !== "string") throw new UnreadableRecord(seq, "parts");
    return { class: part.class, grantId, amount: int(part, "amount", seq) };
  });
}

const zero = (): Record<CreditClass, number> => ({ trial: 0, paid: 0, promo: 0, admin: 0 });

export class LedgerReplay {
  readonly #tenants = new Map<string, ReplayTenant>();
  readonly #grants = new Map<string, ReplayGrant>();
  readonly #holds = new Map<string, ReplayHold>();

  /** Folds one record (in chain order) into the replayed state. */
  apply(record: AuditRecord): void {
    const { seq, tenant } = record;
    const data = record.data as Data;
    if (tenant === null) return;
    switch (record.kind) {
      case "grant": {
        const cls = data.class;
        if (!isClass(cls)) throw new UnreadableRecord(seq, "class");
        const amount = int(data, "amount", seq);
        const active = int(data, "effective_at_ms", seq) <= record.at_ms;
        const expires = data.expires_at_ms;
        this.#grants.set(str(data, "grant_id", seq), {
          tenant,
          class: cls,
          amount,
          expiresAtMs: typeof expires === "number" ? expires : null,
          remaining: amount,
          status: active ? "active" : "pending",
          entrySum: active ? amount : 0,
          seq,
        });
        if (active) this.#post(tenant, cls, amount, seq);
        return;
      }
      case "activation": {
        const grant = this.#grant(str(data, "grant_id", seq), seq);
        grant.status = "active";
        grant.entrySum += grant.amount;
        this.#post(tenant, grant.class, grant.amount, seq);
        return;
      }
      case "debit":
        for (const part of parts(data, seq)) {
          this.#post(tenant, part.class, -part.amount, seq);
          if (part.grantId !== null) {
            const grant = this.#grant(part.grantId, seq);
            grant.remaining -= part.amount;
            grant.entrySum -= part.amount;
          }
        }
        return;
      case "hold": {
        const held = parts(data, seq);
        this.#holds.set(str(data, "hold_id", seq), {
          tenant,
          amount: int(data, "amount", seq),
          parts: held,
          drawn: 0,
          state: "active",
          seq,
        });
        const t = this.#tenant(tenant, seq);
        for (const part of held) {
          t.held[part.class] += part.amount;
          if (part.grantId !== null) this.#grant(part.grantId, seq).remaining -= part.amount;
        }
        return;
      }
      case "draw": {
        const hold = this.#hold(str(data, "hold_id", seq), seq);
        hold.drawn += int(data, "amount", seq);
        const t = this.#tenant(tenant, seq);
        for (const part of parts(data, seq)) {
          t.held[part.class] -= part.amount;
          this.#post(tenant, part.class, -part.amount, seq);
          if (part.grantId !== null) this.#grant(part.grantId, seq).entrySum -= part.amount;
        }
        return;
      }
      case "commit": {
        const hold = this.#hold(str(data, "hold_id", seq), seq);
        const reserved = remainingParts(hold.parts, hold.drawn);
        const left = hold.amount - hold.drawn;
        const { taken, rest } = splitParts(reserved, Math.min(int(data, "committed", seq), left));
        this.#resolve(hold, "committed", reserved, rest, seq);
        // What the commit took beyond its reservation left the grants now; the rest left them
        // when the hold was placed.
        const takenByGrant = new Map<string, number>();
        for (const part of taken) {
          if (part.grantId !== null)
            takenByGrant.set(part.grantId, (takenByGrant.get(part.grantId) ?? 0) + part.amount);
        }
        for (const part of parts(data, seq)) {
          this.#post(tenant, part.class, -part.amount, seq);
          if (part.grantId === null) continue;
          const grant = this.#grant(part.grantId, seq);
          grant.entrySum -= part.amount;
          const fromHold = Math.min(takenByGrant.get(part.grantId) ?? 0, part.amount);
          takenByGrant.set(part.grantId, (takenByGrant.get(part.grantId) ?? 0) - fromHold);
          grant.remaining -= part.amount - fromHold;
        }
        return;
      }
      case "release": {
        const hold = this.#hold(str(data, "hold_id", seq), seq);
        const reserved = remainingParts(hold.parts, hold.drawn);
        this.#resolve(hold, "released", reserved, reserved, seq);
        return;
      }
      case "expiry": {
        if (typeof data.hold_id === "string") {
          const hold = this.#hold(data.hold_id, seq);
          const reserved = remainingParts(hold.parts, hold.drawn);
          this.#resolve(hold, "expired", reserved, reserved, seq);
          return;
        }
        const grant = this.#grant(str(data, "grant_id", seq), seq);
        const amount = int(data, "amount", seq);
        // Either the grant's own expiry (what is left of it) or credit given back to an expired
        // grant, which expires at once; the latter is recorded before the commit, release or
        // reversal that gives it back. Either way an expired grant has nothing left.
        grant.remaining = 0;
        grant.status = "expired";
        grant.entrySum -= amount;
        grant.seq = seq;
        this.#post(tenant, grant.class, -amount, seq);
        return;
      }
      case "reversal":
        for (const part of parts(data, seq)) {
          this.#post(tenant, part.class, part.amount, seq);
          if (part.grantId === null) continue;
          const grant = this.#grant(part.grantId, seq);
          grant.entrySum += part.amount;
          if (grant.status !== "expired") grant.remaining += part.amount;
        }
        return;
      case "revocation": {
        // A revoked grant stops paying at once; what is left of it expires in the next record.
        const grant =
          data.revoked_kind === "grant" ? this.#grants.get(String(data.subject)) : undefined;
        if (grant !== undefined && grant.tenant === tenant) grant.status = "expired";
        return;
      }
      default:
        // Decisions without effect, service events: no value moves.
        return;
    }
  }

  /** The stored rows that disagree with the replay, first the balances, then grants and holds. */
  mismatches(stored: StoredLedger): LedgerMismatch[] {
    const out: LedgerMismatch[] = [];
    const balanceKeys = new Set<string>();
    for (const b of stored.balances) {
      balanceKeys.add(`${b.tenant}/${b.class}`);
      const t = this.#tenants.get(b.tenant);
      const posted = t?.posted[b.class] ?? 0;
      const held = t?.held[b.class] ?? 0;
      if (b.posted !== posted || b.held !== held) {
        out.push({
          row: `balances ${b.tenant}/${b.class}: posted ${b.posted}, held ${b.held}; the chain says posted ${posted}, held ${held}`,
          seq: t?.seq ?? 0,
          tenant: b.tenant,
        });
      }
    }
    for (const [tenant, t] of this.#tenants) {
      for (const cls of creditClasses) {
        if ((t.posted[cls] !== 0 || t.held[cls] !== 0) && !balanceKeys.has(`${tenant}/${cls}`)) {
          out.push({
            row: `balances ${tenant}/${cls}: missing; the chain says posted ${t.posted[cls]}`,
            seq: t.seq,
            tenant,
          });
        }
      }
    }
    for (const e of stored.entrySums) {
      const posted = this.#tenants.get(e.tenant)?.posted[e.class] ?? 0;
      if (e.sum !== posted) {
        out.push({
          row: `entries ${e.tenant}/${e.class}: sum ${e.sum}; the chain says ${posted}`,
          seq: this.#tenants.get(e.tenant)?.seq ?? 0,
          tenant: e.tenant,
        });
      }
    }
    const entrySums = new Map(stored.grantEntrySums.map((s) => [s.grantId, s.sum]));
    const grantIds = new Set<string>();
    for (const g of stored.grants) {
      grantIds.add(g.grantId);
      const want = this.#grants.get(g.grantId);
      if (want === undefined) {
        out.push({
          row: `grants ${g.grantId}: no grant record in the chain`,
          seq: 0,
          tenant: g.tenant,
        });
        continue;
      }
      const sum = entrySums.get(g.grantId) ?? 0;
      // A grant past its expiry with nothing left may be marked expired without a record.
      const status =
        want.status === "active" &&
        g.status === "expired" &&
        want.remaining === 0 &&
        want.expiresAtMs !== null
          ? "expired"
          : want.status;
      if (
        g.tenant !== want.tenant ||
        g.class !== want.class ||
        g.amount !== want.amount ||
        g.remaining !== want.remaining ||
        g.status !== status ||
        sum !== want.entrySum
      ) {
        out.push({
          row: `grants ${g.grantId}: ${g.class} amount ${g.amount}, remaining ${g.remaining}, ${g.status}, entries ${sum}; the chain says ${want.class} amount ${want.amount}, remaining ${want.remaining}, ${status}, entries ${want.entrySum}`,
          seq: want.seq,
          tenant: g.tenant,
        });
      }
    }
    for (const [grantId, want] of this.#grants) {
      if (!grantIds.has(grantId))
        out.push({ row: `grants ${grantId}: missing`, seq: want.seq, tenant: want.tenant });
    }
    const holdIds = new Set<string>();
    for (const h of stored.holds) {
      holdIds.add(h.holdId);
      const want = this.#holds.get(h.holdId);
      if (want === undefined) {
        out.push({
          row: `holds ${h.holdId}: no hold record in the chain`,
          seq: 0,
          tenant: h.tenant,
        });
        continue;
      }
      const sameParts =
        h.parts.length === want.parts.length &&
        h.parts.every((p, i) => {
          const w = want.parts[i] as Part;
          return p.class === w.class && p.grantId === w.grantId && p.amount === w.amount;
        });
      if (
        h.tenant !== want.tenant ||
        h.amount !== want.amount ||
        h.drawn !== want.drawn ||
        h.state !== want.state ||
        !sameParts
      ) {
        out.push({
          row: `holds ${h.holdId}: amount ${h.amount}, drawn ${h.drawn}, ${h.state}; the chain says amount ${want.amount}, drawn ${want.drawn}, ${want.state}`,
          seq: want.seq,
          tenant: h.tenant,
        });
      }
    }
    for (const [holdId, want] of this.#holds) {
      if (!holdIds.has(holdId))
        out.push({ row: `holds ${holdId}: missing`, seq: want.seq, tenant: want.tenant });
    }
    return out;
  }

  #tenant(tenant: string, seq: number): ReplayTenant {
    let t = this.#tenants.get(tenant);
    if (t === undefined) {
      t = { posted: zero(), held: zero(), seq };
      this.#tenants.set(tenant, t);
    }
    t.seq = seq;
    return t;
  }

  #post(tenant: string, cls: CreditClass, amount: number, seq: number): void {
    this.#tenant(tenant, seq).posted[cls] += amount;
  }

  #grant(grantId: string, seq: number): ReplayGrant {
    const grant = this.#grants.get(grantId);
    if (grant === undefined)
      throw new UnreadableRecord(seq, `grant ${grantId} (no grant record before it)`);
    grant.seq = seq;
    return grant;
  }

  #hold(holdId: string, seq: number): ReplayHold {
    const hold = this.#holds.get(holdId);
    if (hold === undefined)
      throw new UnreadableRecord(seq, `hold ${holdId} (no hold record before it)`);
    hold.seq = seq;
    return hold;
  }

  /** A hold ends: what it still reserved is no longer held; `giveBack` returns to its grants. */
  #resolve(
    hold: ReplayHold,
    state: HoldRow["state"],
    reserved: readonly Part[],
    giveBack: readonly Part[],
    seq: number,
  ): void {
    hold.state = state;
    const t = this.#tenant(hold.tenant, seq);
    for (const part of reserved) t.held[part.class] -= part.amount;
    for (const part of giveBack) {
      if (part.grantId === null) continue;
      const grant = this.#grant(part.grantId, seq);
      // Given back to an expired grant, it expires at once: the expiry record that follows says so.
      if (grant.status !== "expired") grant.remaining += part.amount;
    }
  }
}
