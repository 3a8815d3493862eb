/** LedgerTx on one better-sqlite3 connection: prepared statements, no round trips. */
import type Database from "better-sqlite3";
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
  creditClasses,
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
  tenantStatusFromRow,
  transferEntryFromRow,
} from "../rows-codec.js";

type Stmt = Database.Statement<unknown[], unknown>;

function must(changes: number, what: string): void {
  if (changes !== 1) {
    throw new CreditgateError("LEDGER_INVARIANT_VIOLATED", {
      message: `${what}: the row changed under the transaction`,
    });
  }
}

export class SqliteStatements {
  readonly head: Stmt;
  readonly tenant: Stmt;
  readonly balances: Stmt;
  readonly openGrants: Stmt;
  readonly grant: Stmt;
  readonly hold: Stmt;
  readonly dueHolds: Stmt;
  readonly nextHold: Stmt;
  readonly idem: Stmt;
  readonly transfer: Stmt;
  readonly usage: Stmt;
  readonly dueTenants: Stmt;
  readonly insertTenant: Stmt;
  readonly insertBalance: Stmt;
  readonly updateTenant: Stmt;
  readonly updateBalance: Stmt;
  readonly insertGrant: Stmt;
  readonly updateGrant: Stmt;
  readonly insertHold: Stmt;
  readonly updateHold: Stmt;
  readonly insertHoldDraw: Stmt;
  readonly updateHead: Stmt;
  readonly upsertUsage: Stmt;
  readonly insertRevocation: Stmt;

  constructor(db: Database.Database) {
    this.head = db.prepare("SELECT seq, hash FROM audit_head WHERE id = 1");
    this.tenant = db.prepare(
      "SELECT next_hold_expiry_at_ms, status, status_at_ms, status_reason FROM tenants WHERE tenant = ?",
    );
    this.balances = db.prepare("SELECT class, posted, held FROM balances WHERE tenant = ?");
    this.openGrants = db.prepare(
      "SELECT * FROM grants WHERE tenant = ? AND (status = 'pending' OR (status = 'active' AND remaining > 0))",
    );
    this.grant = db.prepare("SELECT * FROM grants WHERE grant_id = ?");
    this.hold = db.prepare("SELECT * FROM holds WHERE hold_id = ?");
    this.dueHolds = db.prepare(
      "SELECT * FROM holds WHERE tenant = ? AND state = 'active' AND expires_at_ms <= ?",
    );
    this.nextHold = db.prepare(
      "SELECT MIN(expires_at_ms) AS m FROM holds WHERE tenant = ? AND state = 'active' AND expires_at_ms > ?",
    );
    this.idem = db.prepare(
      "SELECT tenant, key, op, fingerprint, result FROM idempotency WHERE tenant = ? AND key = ?",
    );
    this.transfer = db.prepare(
      `SELECT e.*, COALESCE((SELECT SUM(r.amount) FROM entries r WHERE r.ref_entry_id = e.entry_id), 0) AS reversed
       FROM entries e WHERE e.transfer_id = ? AND e.tenant = ? ORDER BY e.seq`,
    );
    this.usage = db.prepare(
      "SELECT calls, credits FROM usage_counters WHERE tenant = ? AND scope = ? AND win = ? AND window_start_ms = ?",
    );
    this.dueTenants = db.prepare(
      `SELECT tenant FROM grants WHERE status = 'pending' AND effective_at_ms <= @now
       UNION SELECT tenant FROM grants WHERE status = 'active' AND remaining > 0 AND expires_at_ms <= @now
       UNION SELECT tenant FROM holds WHERE state = 'active' AND expires_at_ms <= @now
       LIMIT @limit`,
    );
    this.insertTenant = db.prepare(
      "INSERT INTO tenants (tenant, next_hold_expiry_at_ms) VALUES (?, NULL)",
    );
    this.insertBalance = db.prepare(
      "INSERT INTO balances (tenant, class, posted, held) VALUES (?, ?, 0, 0)",
    );
    // Compare-and-set on the status: a batch that rewrites the tenant row (a status change, a new
    // hold expiry) fails if the status changed since it was read; other batches do not check it.
    this.updateTenant = db.prepare(
      "UPDATE tenants SET next_hold_expiry_at_ms = ?, status = ?, status_at_ms = ?, status_reason = ? WHERE tenant = ? AND status = ?",
    );
    // Compare-and-set: the values the engine read must still be there.
    this.updateBalance = db.prepare(
      "UPDATE balances SET posted = ?, held = ? WHERE tenant = ? AND class = ? AND posted = ? AND held = ?",
    );
    this.insertGrant = db.prepare(
      `INSERT INTO grants (grant_id, tenant, class, amount, remaining, status, effective_at_ms, expires_at_ms,
       priority, source, reference, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.updateGrant = db.prepare(
      "UPDATE grants SET remaining = ?, status = ? WHERE grant_id = ? AND remaining = ? AND status = ?",
    );
    this.insertHold = db.prepare(
      `INSERT INTO holds (hold_id, tenant, amount, parts, draw_order, state, created_at_ms, expires_at_ms,
       resolved_at_ms, drawn, released, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // Compare-and-set on state and drawn: a draw or resolution elsewhere fails this batch.
    this.updateHold = db.prepare(
      "UPDATE holds SET state = ?, drawn = ?, resolved_at_ms = ?, released = ? WHERE hold_id = ? AND state = ? AND drawn = ?",
    );
    this.insertHoldDraw = db.prepare(
      "INSERT INTO hold_draws (transfer_id, hold_id, tenant, amount, at_ms) VALUES (?, ?, ?, ?, ?)",
    );
    this.updateHead = db.prepare(
      "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1 AND seq = ? AND hash = ?",
    );
    this.upsertUsage = db.prepare(
      `INSERT INTO usage_counters (tenant, scope, win, window_start_ms, calls, credits) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (tenant, scope, win, window_start_ms)
       DO UPDATE SET calls = calls + excluded.calls, credits = credits + excluded.credits`,
    );
    this.insertRevocation = db.prepare(
      "INSERT INTO revocations (revocation_id, tenant, kind, subject, reason, at_ms) VALUES (?, ?, ?, ?, ?, ?)",
    );
  }
}

export class SqliteTx implements LedgerTx {
  readonly #s: SqliteStatements;
  readonly #db: Database.Database;
  readonly #many = new Map<string, Stmt>();

  constructor(db: Database.Database, statements: SqliteStatements = new SqliteStatements(db)) {
    this.#db = db;
    this.#s = statements;
  }

  #insertMany(head: string, columns: number, rows: readonly unknown[][]): void {
    const chunk = 64;
    for (let i = 0; i < rows.length; i += chunk) {
      const part = rows.slice(i, i + chunk);
      const id = `${head}/${part.length}`;
      let stmt = this.#many.get(id);
      if (!stmt) {
        const tuple = `(${Array(columns).fill("?").join(", ")})`;
        stmt = this.#db.prepare(`${head} VALUES ${Array(part.length).fill(tuple).join(", ")}`);
        this.#many.set(id, stmt);
      }
      stmt.run(...part.flat());
    }
  }

  async readHead(): Promise<ChainHead> {
    const row = this.#s.head.get() as Row;
    return { seq: num(row.seq), hash: String(row.hash) };
  }

  async loadTenant(tenant: string): Promise<TenantRow | null> {
    const row = this.#s.tenant.get(tenant) as Row | undefined;
    if (!row) return null;
    const posted = zeroAmounts();
    const held = zeroAmounts();
    for (const b of this.#s.balances.all(tenant) as Row[]) {
      posted[b.class as CreditClass] = num(b.posted);
      held[b.class as CreditClass] = num(b.held);
    }
    return {
      tenant,
      nextHoldExpiryAtMs: numOrNull(row.next_hold_expiry_at_ms),
      ...tenantStatusFromRow(row),
      posted,
      held,
    };
  }

  async loadOpenGrants(tenant: string): Promise<GrantRow[]> {
    return (this.#s.openGrants.all(tenant) as Row[]).map(grantFromRow);
  }

  async loadGrant(grantId: string): Promise<GrantRow | null> {
    const row = this.#s.grant.get(grantId) as Row | undefined;
    return row ? grantFromRow(row) : null;
  }

  async loadHold(holdId: string): Promise<HoldRow | null> {
    const row = this.#s.hold.get(holdId) as Row | undefined;
    return row ? holdFromRow(row) : null;
  }

  async loadDueHolds(tenant: string, nowMs: number): Promise<HoldRow[]> {
    return (this.#s.dueHolds.all(tenant, nowMs) as Row[]).map(holdFromRow);
  }

  async nextHoldExpiry(tenant: string, afterMs: number): Promise<number | null> {
    return numOrNull((this.#s.nextHold.get(tenant, afterMs) as Row).m);
  }

  async loadIdempotency(tenant: string, key: string): Promise<IdempotencyRow | null> {
    return (this.#s.idem.get(tenant, key) as IdempotencyRow | undefined) ?? null;
  }

  async loadBatch(
    keys: readonly { tenant: string; key: string }[],
    tenants: readonly string[],
  ): Promise<{
    idempotency: IdempotencyRow[];
    tenants: Map<string, { row: TenantRow; grants: GrantRow[] }>;
  }> {
    // No round trips on SQLite: the single-row statements are as cheap as any batch query.
    const idempotency = keys.flatMap((k) => {
      const row = this.#s.idem.get(k.tenant, k.key) as IdempotencyRow | undefined;
      return row ? [row] : [];
    });
    const out = new Map<string, { row: TenantRow; grants: GrantRow[] }>();
    for (const tenant of tenants) {
      const row = await this.loadTenant(tenant);
      if (row) out.set(tenant, { row, grants: await this.loadOpenGrants(tenant) });
    }
    return { idempotency, tenants: out };
  }

  async loadTransfer(tenant: string, transferId: string): Promise<TransferEntry[]> {
    return (this.#s.transfer.all(transferId, tenant) as Row[]).map(transferEntryFromRow);
  }

  async loadUsage(
    tenant: string,
    keys: readonly (UsageKey & { windowStartMs: number })[],
  ): Promise<UsageCounter[]> {
    return keys.flatMap((k) => {
      const row = this.#s.usage.get(tenant, k.scope, k.window, k.windowStartMs) as Row | undefined;
      return row ? [{ ...k, calls: num(row.calls), credits: num(row.credits) }] : [];
    });
  }

  async dueTenants(nowMs: number, limit: number): Promise<string[]> {
    return (this.#s.dueTenants.all({ now: nowMs, limit }) as Row[]).map((r) => String(r.tenant));
  }

  async write(c: ChangeSet): Promise<void> {
    const s = this.#s;
    for (const tenant of c.newTenants) {
      s.insertTenant.run(tenant);
      for (const cls of creditClasses) s.insertBalance.run(tenant, cls);
    }
    for (const t of c.tenantUpdates) {
      must(
        s.updateTenant.run(
          t.nextHoldExpiryAtMs,
          t.status,
          t.statusAtMs,
          t.statusReason,
          t.tenant,
          t.fromStatus,
        ).changes,
        `tenant ${t.tenant}`,
      );
    }
    for (const b of c.balanceUpdates) {
      must(
        s.updateBalance.run(b.posted, b.held, b.tenant, b.class, b.fromPosted, b.fromHeld).changes,
        `balance ${b.tenant}/${b.class}`,
      );
    }
    for (const g of c.grantInserts) {
      s.insertGrant.run(
        g.grantId,
        g.tenant,
        g.class,
        g.amount,
        g.remaining,
        g.status,
        g.effectiveAtMs,
        g.expiresAtMs,
        g.priority,
        g.source,
        g.reference,
        g.createdAtMs,
      );
    }
    for (const g of c.grantUpdates) {
      must(
        s.updateGrant.run(g.remaining, g.status, g.grantId, g.fromRemaining, g.fromStatus).changes,
        `grant ${g.grantId}`,
      );
    }
    for (const h of c.holdInserts) {
      s.insertHold.run(
        h.holdId,
        h.tenant,
        h.amount,
        JSON.stringify(h.parts),
        JSON.stringify(h.drawOrder),
        h.state,
        h.createdAtMs,
        h.expiresAtMs,
        h.resolvedAtMs,
        h.drawn,
        h.released,
        h.owner,
      );
    }
    for (const h of c.holdUpdates) {
      must(
        s.updateHold.run(
          h.state,
          h.drawn,
          h.resolvedAtMs,
          h.released,
          h.holdId,
          h.fromState,
          h.fromDrawn,
        ).changes,
        `hold ${h.holdId}`,
      );
    }
    for (const d of c.holdDraws) {
      s.insertHoldDraw.run(d.transferId, d.holdId, d.tenant, d.amount, d.atMs);
    }
    // Multi-row INSERTs: one statement per chunk instead of one per row.
    this.#insertMany(
      "INSERT INTO entries (entry_id, tenant, class, grant_id, transfer_id, kind, amount, ref_entry_id, at_ms)",
      9,
      c.entries.map((e) => [
        e.entryId,
        e.tenant,
        e.class,
        e.grantId,
        e.transferId,
        e.kind,
        e.amount,
        e.refEntryId,
        e.atMs,
      ]),
    );
    this.#insertMany(
      "INSERT INTO audit_records (seq, prev_hash, hash, at_ms, kind, tenant, data, principal, decision_id)",
      9,
      c.audit.map(({ record: a, dataText, keys }) => [
        a.seq,
        a.prev_hash,
        a.hash,
        a.at_ms,
        a.kind,
        a.tenant,
        dataText,
        keys.principal,
        keys.decisionId,
      ]),
    );
    if (c.head.to.seq !== c.head.from.seq) {
      must(
        s.updateHead.run(c.head.to.seq, c.head.to.hash, c.head.from.seq, c.head.from.hash).changes,
        "audit head",
      );
    }
    this.#insertMany(
      "INSERT INTO idempotency (tenant, key, op, fingerprint, result)",
      5,
      c.idempotency.map((i) => [i.tenant, i.key, i.op, i.fingerprint, i.result]),
    );
    for (const u of c.usage)
      s.upsertUsage.run(u.tenant, u.scope, u.window, u.windowStartMs, u.calls, u.credits);
    for (const r of c.revocations) {
      s.insertRevocation.run(r.revocationId, r.tenant, r.kind, r.subject, r.reason, r.atMs);
    }
  }
}
