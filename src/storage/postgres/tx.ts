/**
 * LedgerTx on one pooled PostgreSQL client. The chain-head row is locked first (FOR UPDATE), so
 * write transactions from every instance run one after another and cannot deadlock; writes go
 * out as one multi-row statement per table (unnest), so a batch costs a handful of round trips.
 */
import type pg from "pg";
import type { ChainHead } from "../../audit/chain.js";
import { CreditgateError } from "../../errors.js";
import type {
  ChangeSet,
  GrantRow,
  HoldRow,
  IdempotencyRow,
  LedgerTx,
  TenantRow,
  TransferEntry,
} from "../../ledger/rows.js";
import {
  type CreditClass,
  type UsageCounter,
  type UsageKey,
  zeroAmounts,
} from "../../ledger/types.js";
import {
  grantFromRow,
  holdFromRow,
  num,
  numOrNull,
  type Row,
  transferEntryFromRow,
} from "../rows-codec.js";

function must(actual: number | null, expected: number, what: string): void {
  if (actual !== expected) {
    throw new CreditgateError("LEDGER_INVARIANT_VIOLATED", {
      message: `${what}: ${actual ?? 0} of ${expected} rows matched; a row changed under the transaction`,
    });
  }
}

export class PostgresTx implements LedgerTx {
  readonly #c: pg.PoolClient;

  constructor(client: pg.PoolClient) {
    this.#c = client;
  }

  async #rows(sql: string, params: unknown[] = []): Promise<Row[]> {
    return (await this.#c.query<Row>({ text: sql, values: params })).rows;
  }

  async readHead(): Promise<ChainHead> {
    const [row] = await this.#rows("SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE");
    if (!row)
      throw new CreditgateError("LEDGER_INVARIANT_VIOLATED", { message: "audit head row missing" });
    return { seq: num(row.seq), hash: String(row.hash) };
  }

  async loadTenant(tenant: string): Promise<TenantRow | null> {
    const rows = await this.#rows(
      `SELECT t.next_hold_expiry_at_ms, b.class, b.posted, b.held
       FROM tenants t LEFT JOIN balances b ON b.tenant = t.tenant WHERE t.tenant = $1`,
      [tenant],
    );
    if (rows.length === 0) return null;
    const posted = zeroAmounts();
    const held = zeroAmounts();
    for (const r of rows) {
      if (r.class === null) continue;
      posted[r.class as CreditClass] = num(r.posted);
      held[r.class as CreditClass] = num(r.held);
    }
    return { tenant, nextHoldExpiryAtMs: numOrNull(rows[0]!.next_hold_expiry_at_ms), posted, held };
  }

  async loadOpenGrants(tenant: string): Promise<GrantRow[]> {
    const rows = await this.#rows(
      "SELECT * FROM grants WHERE tenant = $1 AND (status = 'pending' OR (status = 'active' AND remaining > 0))",
      [tenant],
    );
    return rows.map(grantFromRow);
  }

  async loadGrant(grantId: string): Promise<GrantRow | null> {
    const [row] = await this.#rows("SELECT * FROM grants WHERE grant_id = $1", [grantId]);
    return row ? grantFromRow(row) : null;
  }

  async loadHold(holdId: string): Promise<HoldRow | null> {
    const [row] = await this.#rows("SELECT * FROM holds WHERE hold_id = $1", [holdId]);
    return row ? holdFromRow(row) : null;
  }

  async loadDueHolds(tenant: string, nowMs: number): Promise<HoldRow[]> {
    const rows = await this.#rows(
      "SELECT * FROM holds WHERE tenant = $1 AND state = 'active' AND expires_at_ms <= $2",
      [tenant, nowMs],
    );
    return rows.map(holdFromRow);
  }

  async nextHoldExpiry(tenant: string, afterMs: number): Promise<number | null> {
    const [row] = await this.#rows(
      "SELECT MIN(expires_at_ms) AS m FROM holds WHERE tenant = $1 AND state = 'active' AND expires_at_ms > $2",
      [tenant, afterMs],
    );
    return numOrNull(row?.m);
  }

  async loadIdempotency(tenant: string, key: string): Promise<IdempotencyRow | null> {
    const [row] = await this.#rows("SELECT * FROM idempotency WHERE tenant = $1 AND key = $2", [
      tenant,
      key,
    ]);
    return (row as IdempotencyRow | undefined) ?? null;
  }

  async loadTransfer(tenant: string, transferId: string): Promise<TransferEntry[]> {
    const rows = await this.#rows(
      `SELECT e.*, COALESCE((SELECT SUM(r.amount) FROM entries r WHERE r.ref_entry_id = e.entry_id), 0) AS reversed
       FROM entries e WHERE e.transfer_id = $1 AND e.tenant = $2 ORDER BY e.seq`,
      [transferId, tenant],
    );
    return rows.map(transferEntryFromRow);
  }

  async loadUsage(
    tenant: string,
    keys: readonly (UsageKey & { windowStartMs: number })[],
  ): Promise<UsageCounter[]> {
    if (keys.length === 0) return [];
    const rows = await this.#rows(
      `SELECT u.scope, u.win, u.window_start_ms, u.calls, u.credits FROM usage_counters u
       JOIN unnest($2::text[], $3::text[], $4::bigint[]) AS k(scope, win, start)
         ON u.scope = k.scope AND u.win = k.win AND u.window_start_ms = k.start
       WHERE u.tenant = $1`,
      [
        tenant,
        keys.map((k) => k.scope),
        keys.map((k) => k.window),
        keys.map((k) => k.windowStartMs),
      ],
    );
    return rows.map((r) => ({
      scope: String(r.scope),
      window: r.win as UsageKey["window"],
      windowStartMs: num(r.window_start_ms),
      calls: num(r.calls),
      credits: num(r.credits),
    }));
  }

  async dueTenants(nowMs: number, limit: number): Promise<string[]> {
    const rows = await this.#rows(
      `SELECT tenant FROM grants WHERE status = 'pending' AND effective_at_ms <= $1
       UNION SELECT tenant FROM grants WHERE status = 'active' AND remaining > 0 AND expires_at_ms <= $1
       UNION SELECT tenant FROM holds WHERE state = 'active' AND expires_at_ms <= $1
       LIMIT $2`,
      [nowMs, limit],
    );
    return rows.map((r) => String(r.tenant));
  }

  async write(c: ChangeSet): Promise<void> {
    const q = (text: string, values: unknown[]) => this.#c.query({ text, values });
    if (c.newTenants.length > 0) {
      await q(
        `WITH t AS (INSERT INTO tenants (tenant) SELECT unnest($1::text[]) RETURNING tenant)
         INSERT INTO balances (tenant, class, posted, held)
         SELECT t.tenant, k.class, 0, 0 FROM t CROSS JOIN unnest(ARRAY['trial', 'paid', 'promo', 'admin']) AS k(class)`,
        [c.newTenants],
      );
    }
    if (c.tenantUpdates.length > 0) {
      const r = await q(
        `UPDATE tenants t SET next_hold_expiry_at_ms = v.next
         FROM unnest($1::text[], $2::bigint[]) AS v(tenant, next) WHERE t.tenant = v.tenant`,
        [c.tenantUpdates.map((t) => t.tenant), c.tenantUpdates.map((t) => t.nextHoldExpiryAtMs)],
      );
      must(r.rowCount, c.tenantUpdates.length, "tenants");
    }
    if (c.balanceUpdates.length > 0) {
      const b = c.balanceUpdates;
      // Compare-and-set on the values the engine read; CHECK (held >= 0) is the backstop.
      const r = await q(
        `UPDATE balances b SET posted = v.posted, held = v.held
         FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[])
           AS v(tenant, class, from_posted, from_held, posted, held)
         WHERE b.tenant = v.tenant AND b.class = v.class AND b.posted = v.from_posted AND b.held = v.from_held`,
        [
          b.map((x) => x.tenant),
          b.map((x) => x.class),
          b.map((x) => x.fromPosted),
          b.map((x) => x.fromHeld),
          b.map((x) => x.posted),
          b.map((x) => x.held),
        ],
      );
      must(r.rowCount, b.length, "balances");
    }
    if (c.grantInserts.length > 0) {
      const g = c.grantInserts;
      await q(
        `INSERT INTO grants (grant_id, tenant, class, amount, remaining, status, effective_at_ms, expires_at_ms,
           priority, source, reference, created_at_ms)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[],
           $7::bigint[], $8::bigint[], $9::int[], $10::text[], $11::text[], $12::bigint[])`,
        [
          g.map((x) => x.grantId),
          g.map((x) => x.tenant),
          g.map((x) => x.class),
          g.map((x) => x.amount),
          g.map((x) => x.remaining),
          g.map((x) => x.status),
          g.map((x) => x.effectiveAtMs),
          g.map((x) => x.expiresAtMs),
          g.map((x) => x.priority),
          g.map((x) => x.source),
          g.map((x) => x.reference),
          g.map((x) => x.createdAtMs),
        ],
      );
    }
    if (c.grantUpdates.length > 0) {
      const g = c.grantUpdates;
      const r = await q(
        `UPDATE grants g SET remaining = v.remaining, status = v.status
         FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::text[])
           AS v(grant_id, from_remaining, from_status, remaining, status)
         WHERE g.grant_id = v.grant_id AND g.remaining = v.from_remaining AND g.status = v.from_status`,
        [
          g.map((x) => x.grantId),
          g.map((x) => x.fromRemaining),
          g.map((x) => x.fromStatus),
          g.map((x) => x.remaining),
          g.map((x) => x.status),
        ],
      );
      must(r.rowCount, g.length, "grants");
    }
    if (c.holdInserts.length > 0) {
      const h = c.holdInserts;
      await q(
        `INSERT INTO holds (hold_id, tenant, amount, parts, draw_order, state, created_at_ms, expires_at_ms, resolved_at_ms)
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[],
           $7::bigint[], $8::bigint[], $9::bigint[])`,
        [
          h.map((x) => x.holdId),
          h.map((x) => x.tenant),
          h.map((x) => x.amount),
          h.map((x) => JSON.stringify(x.parts)),
          h.map((x) => JSON.stringify(x.drawOrder)),
          h.map((x) => x.state),
          h.map((x) => x.createdAtMs),
          h.map((x) => x.expiresAtMs),
          h.map((x) => x.resolvedAtMs),
        ],
      );
    }
    if (c.holdUpdates.length > 0) {
      const h = c.holdUpdates;
      const r = await q(
        `UPDATE holds h SET state = v.state, resolved_at_ms = v.resolved
         FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS v(hold_id, from_state, state, resolved)
         WHERE h.hold_id = v.hold_id AND h.state = v.from_state`,
        [
          h.map((x) => x.holdId),
          h.map((x) => x.fromState),
          h.map((x) => x.state),
          h.map((x) => x.resolvedAtMs),
        ],
      );
      must(r.rowCount, h.length, "holds");
    }
    if (c.entries.length > 0) {
      const e = c.entries;
      await q(
        `INSERT INTO entries (entry_id, tenant, class, grant_id, transfer_id, kind, amount, ref_entry_id, at_ms)
         SELECT a, b, c, d, e, f, g, h, i FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
           $6::text[], $7::bigint[], $8::text[], $9::bigint[]) WITH ORDINALITY AS v(a, b, c, d, e, f, g, h, i, n)
         ORDER BY n`,
        [
          e.map((x) => x.entryId),
          e.map((x) => x.tenant),
          e.map((x) => x.class),
          e.map((x) => x.grantId),
          e.map((x) => x.transferId),
          e.map((x) => x.kind),
          e.map((x) => x.amount),
          e.map((x) => x.refEntryId),
          e.map((x) => x.atMs),
        ],
      );
    }
    if (c.audit.length > 0) {
      const a = c.audit.map((x) => x.record);
      await q(
        `INSERT INTO audit_records (seq, prev_hash, hash, at_ms, kind, tenant, data)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[])`,
        [
          a.map((x) => x.seq),
          a.map((x) => x.prev_hash),
          a.map((x) => x.hash),
          a.map((x) => x.at_ms),
          a.map((x) => x.kind),
          a.map((x) => x.tenant),
          c.audit.map((x) => x.dataText),
        ],
      );
    }
    if (c.head.to.seq !== c.head.from.seq) {
      const r = await q(
        "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1 AND seq = $3 AND hash = $4",
        [c.head.to.seq, c.head.to.hash, c.head.from.seq, c.head.from.hash],
      );
      must(r.rowCount, 1, "audit head");
    }
    if (c.idempotency.length > 0) {
      const i = c.idempotency;
      await q(
        `INSERT INTO idempotency (tenant, key, op, fingerprint, result)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])`,
        [
          i.map((x) => x.tenant),
          i.map((x) => x.key),
          i.map((x) => x.op),
          i.map((x) => x.fingerprint),
          i.map((x) => x.result),
        ],
      );
    }
    if (c.usage.length > 0) {
      const u = c.usage;
      await q(
        `INSERT INTO usage_counters (tenant, scope, win, window_start_ms, calls, credits)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[])
         ON CONFLICT (tenant, scope, win, window_start_ms)
         DO UPDATE SET calls = usage_counters.calls + excluded.calls, credits = usage_counters.credits + excluded.credits`,
        [
          u.map((x) => x.tenant),
          u.map((x) => x.scope),
          u.map((x) => x.window),
          u.map((x) => x.windowStartMs),
          u.map((x) => x.calls),
          u.map((x) => x.credits),
        ],
      );
    }
    if (c.revocations.length > 0) {
      const r = c.revocations;
      await q(
        `INSERT INTO revocations (revocation_id, tenant, kind, subject, reason, at_ms)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])`,
        [
          r.map((x) => x.revocationId),
          r.map((x) => x.tenant),
          r.map((x) => x.kind),
          r.map((x) => x.subject),
          r.map((x) => x.reason),
          r.map((x) => x.atMs),
        ],
      );
    }
  }
}
