/**
 * LedgerTx on one pooled PostgreSQL client. The chain-head row is locked first (FOR UPDATE), so
 * write transactions from every instance run one after another and cannot deadlock; writes go
 * out as one multi-row statement per table (unnest), so a batch costs a handful of round trips.
 */
import { createHash } from "node:crypto";
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
  tenantStatusFromRow,
  transferEntryFromRow,
} from "../rows-codec.js";

const statementNames = new Map<string, string>();

/** A stable name per statement text: node-postgres then prepares it once per connection. */
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `cg_${createHash("sha1").update(text).digest("hex").slice(0, 20)}`;
    // Statement shapes are few (one per combination of change kinds); the bound is a safeguard.
    if (statementNames.size < 4096) statementNames.set(text, name);
  }
  return name;
}

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
    return (await this.#c.query<Row>({ name: statementName(sql), text: sql, values: params })).rows;
  }

  #head: ChainHead | undefined;

  /** BEGIN and the chain-head lock in one round trip (a simple query may hold two statements). */
  async begin(): Promise<void> {
    const results = (await this.#c.query(
      "BEGIN; SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE",
    )) as unknown as pg.QueryResult<Row>[];
    const row = results[1]?.rows[0];
    if (!row) {
      throw new CreditgateError("LEDGER_INVARIANT_VIOLATED", { message: "audit head row missing" });
    }
    this.#head = { seq: num(row.seq), hash: String(row.hash) };
  }

  /** A read-only snapshot for reads outside the write path: no lock, nothing written. */
  async beginRead(): Promise<void> {
    const results = (await this.#c.query(
      "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT seq, hash FROM audit_head WHERE id = 1",
    )) as unknown as pg.QueryResult<Row>[];
    const row = results[1]?.rows[0];
    if (!row) {
      throw new CreditgateError("LEDGER_INVARIANT_VIOLATED", { message: "audit head row missing" });
    }
    this.#head = { seq: num(row.seq), hash: String(row.hash) };
  }

  async readHead(): Promise<ChainHead> {
    if (!this.#head) throw new Error("PostgresTx.begin() was not called");
    return this.#head;
  }

  async loadTenant(tenant: string): Promise<TenantRow | null> {
    const rows = await this.#rows(
      `SELECT t.next_hold_expiry_at_ms, t.status, t.status_at_ms, t.status_reason, b.class, b.posted, b.held
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
    return {
      tenant,
      nextHoldExpiryAtMs: numOrNull(rows[0]!.next_hold_expiry_at_ms),
      ...tenantStatusFromRow(rows[0]!),
      posted,
      held,
    };
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

  /**
   * One round trip: idempotency rows, balance rows (each with its tenant's status columns in
   * b, c, d) and open grants, tagged by kind.
   */
  async loadBatch(
    keys: readonly { tenant: string; key: string }[],
    tenants: readonly string[],
  ): Promise<{
    idempotency: IdempotencyRow[];
    tenants: Map<string, { row: TenantRow; grants: GrantRow[] }>;
  }> {
    const rows = await this.#rows(
      `SELECT 'i' AS k, i.tenant, i.key AS a, i.op AS b, i.fingerprint AS c, i.result AS d,
              NULL::bigint AS n1, NULL::bigint AS n2, NULL::bigint AS n3
       FROM idempotency i JOIN unnest($1::text[], $2::text[]) AS q(tenant, key)
         ON i.tenant = q.tenant AND i.key = q.key
       UNION ALL
       SELECT 't', t.tenant, b.class, t.status, t.status_reason, t.status_at_ms::text,
              b.posted, b.held, t.next_hold_expiry_at_ms
       FROM tenants t LEFT JOIN balances b ON b.tenant = t.tenant WHERE t.tenant = ANY($3::text[])
       UNION ALL
       SELECT 'g', g.tenant, row_to_json(g)::text, NULL, NULL, NULL, NULL, NULL, NULL
       FROM grants g WHERE g.tenant = ANY($3::text[])
         AND (g.status = 'pending' OR (g.status = 'active' AND g.remaining > 0))`,
      [keys.map((k) => k.tenant), keys.map((k) => k.key), tenants],
    );
    const idempotency: IdempotencyRow[] = [];
    const out = new Map<string, { row: TenantRow; grants: GrantRow[] }>();
    const grants: GrantRow[] = [];
    for (const r of rows) {
      const tenant = String(r.tenant);
      if (r.k === "i") {
        idempotency.push({
          tenant,
          key: String(r.a),
          op: String(r.b),
          fingerprint: String(r.c),
          result: String(r.d),
        });
      } else if (r.k === "g") {
        grants.push(grantFromRow(JSON.parse(String(r.a)) as Row));
      } else {
        let entry = out.get(tenant);
        if (!entry) {
          entry = {
            row: {
              tenant,
              nextHoldExpiryAtMs: numOrNull(r.n3),
              ...tenantStatusFromRow({
                status: r.b,
                status_reason: r.c,
                status_at_ms: r.d,
              }),
              posted: zeroAmounts(),
              held: zeroAmounts(),
            },
            grants: [],
          };
          out.set(tenant, entry);
        }
        if (r.a === null) continue;
        (entry.row.posted as Record<CreditClass, number>)[r.a as CreditClass] = num(r.n1);
        (entry.row.held as Record<CreditClass, number>)[r.a as CreditClass] = num(r.n2);
      }
    }
    for (const g of grants) out.get(g.tenant)?.grants.push(g);
    return { idempotency, tenants: out };
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

  /**
   * One statement for the whole change set: data-modifying CTEs all run, against one snapshot,
   * and the final SELECT reports how many rows each compare-and-set matched. New tenants go first
   * in their own statement because the CTEs cannot see each other's rows.
   */
  async write(c: ChangeSet): Promise<void> {
    if (c.newTenants.length > 0) {
      await this.#c.query({
        name: "cg_new_tenants",
        text: `WITH t AS (INSERT INTO tenants (tenant) SELECT unnest($1::text[]) RETURNING tenant)
               INSERT INTO balances (tenant, class, posted, held)
               SELECT t.tenant, k.class, 0, 0 FROM t CROSS JOIN unnest(ARRAY['trial', 'paid', 'promo', 'admin']) AS k(class)`,
        values: [c.newTenants],
      });
    }
    const params: unknown[] = [];
    const arg = (values: readonly unknown[], type: string) => {
      params.push(values);
      return `$${params.length}::${type}[]`;
    };
    const ctes: string[] = [];
    const checks: { name: string; expected: number }[] = [];
    const cas = (name: string, sql: string, expected: number) => {
      ctes.push(`${name} AS (${sql} RETURNING 1)`);
      checks.push({ name, expected });
    };
    const insert = (name: string, sql: string) => ctes.push(`${name} AS (${sql})`);

    if (c.tenantUpdates.length > 0) {
      const t = c.tenantUpdates;
      cas(
        "tu",
        `UPDATE tenants x SET next_hold_expiry_at_ms = v.next, status = v.status,
           status_at_ms = v.status_at, status_reason = v.status_reason
         FROM unnest(${arg(
           t.map((r) => r.tenant),
           "text",
         )}, ${arg(
           t.map((r) => r.nextHoldExpiryAtMs),
           "bigint",
         )}, ${arg(
           t.map((r) => r.fromStatus),
           "text",
         )}, ${arg(
           t.map((r) => r.status),
           "text",
         )}, ${arg(
           t.map((r) => r.statusAtMs),
           "bigint",
         )}, ${arg(
           t.map((r) => r.statusReason),
           "text",
         )}) AS v(tenant, next, from_status, status, status_at, status_reason)
         WHERE x.tenant = v.tenant AND x.status = v.from_status`,
        t.length,
      );
    }
    if (c.balanceUpdates.length > 0) {
      const b = c.balanceUpdates;
      // Compare-and-set on the values the engine read; CHECK (held >= 0) is the backstop.
      cas(
        "bu",
        `UPDATE balances x SET posted = v.posted, held = v.held
         FROM unnest(${arg(
           b.map((r) => r.tenant),
           "text",
         )}, ${arg(
           b.map((r) => r.class),
           "text",
         )},
           ${arg(
             b.map((r) => r.fromPosted),
             "bigint",
           )}, ${arg(
             b.map((r) => r.fromHeld),
             "bigint",
           )},
           ${arg(
             b.map((r) => r.posted),
             "bigint",
           )}, ${arg(
             b.map((r) => r.held),
             "bigint",
           )})
           AS v(tenant, class, from_posted, from_held, posted, held)
         WHERE x.tenant = v.tenant AND x.class = v.class AND x.posted = v.from_posted AND x.held = v.from_held`,
        b.length,
      );
    }
    if (c.grantInserts.length > 0) {
      const g = c.grantInserts;
      insert(
        "gi",
        `INSERT INTO grants (grant_id, tenant, class, amount, remaining, status, effective_at_ms, expires_at_ms,
           priority, source, reference, created_at_ms)
         SELECT * FROM unnest(${arg(
           g.map((x) => x.grantId),
           "text",
         )}, ${arg(
           g.map((x) => x.tenant),
           "text",
         )},
           ${arg(
             g.map((x) => x.class),
             "text",
           )}, ${arg(
             g.map((x) => x.amount),
             "bigint",
           )},
           ${arg(
             g.map((x) => x.remaining),
             "bigint",
           )}, ${arg(
             g.map((x) => x.status),
             "text",
           )},
           ${arg(
             g.map((x) => x.effectiveAtMs),
             "bigint",
           )}, ${arg(
             g.map((x) => x.expiresAtMs),
             "bigint",
           )},
           ${arg(
             g.map((x) => x.priority),
             "int",
           )}, ${arg(
             g.map((x) => x.source),
             "text",
           )},
           ${arg(
             g.map((x) => x.reference),
             "text",
           )}, ${arg(
             g.map((x) => x.createdAtMs),
             "bigint",
           )})`,
      );
    }
    if (c.grantUpdates.length > 0) {
      const g = c.grantUpdates;
      cas(
        "gu",
        `UPDATE grants x SET remaining = v.remaining, status = v.status
         FROM unnest(${arg(
           g.map((r) => r.grantId),
           "text",
         )}, ${arg(
           g.map((r) => r.fromRemaining),
           "bigint",
         )},
           ${arg(
             g.map((r) => r.fromStatus),
             "text",
           )}, ${arg(
             g.map((r) => r.remaining),
             "bigint",
           )},
           ${arg(
             g.map((r) => r.status),
             "text",
           )}) AS v(grant_id, from_remaining, from_status, remaining, status)
         WHERE x.grant_id = v.grant_id AND x.remaining = v.from_remaining AND x.status = v.from_status`,
        g.length,
      );
    }
    if (c.holdInserts.length > 0) {
      const h = c.holdInserts;
      insert(
        "hi",
        `INSERT INTO holds (hold_id, tenant, amount, parts, draw_order, state, created_at_ms, expires_at_ms, resolved_at_ms,
           drawn, released, owner)
         SELECT * FROM unnest(${arg(
           h.map((x) => x.holdId),
           "text",
         )}, ${arg(
           h.map((x) => x.tenant),
           "text",
         )},
           ${arg(
             h.map((x) => x.amount),
             "bigint",
           )}, ${arg(
             h.map((x) => JSON.stringify(x.parts)),
             "text",
           )},
           ${arg(
             h.map((x) => JSON.stringify(x.drawOrder)),
             "text",
           )}, ${arg(
             h.map((x) => x.state),
             "text",
           )},
           ${arg(
             h.map((x) => x.createdAtMs),
             "bigint",
           )}, ${arg(
             h.map((x) => x.expiresAtMs),
             "bigint",
           )},
           ${arg(
             h.map((x) => x.resolvedAtMs),
             "bigint",
           )}, ${arg(
             h.map((x) => x.drawn),
             "bigint",
           )}, ${arg(
             h.map((x) => x.released),
             "bigint",
           )}, ${arg(
             h.map((x) => x.owner),
             "text",
           )})`,
      );
    }
    if (c.holdUpdates.length > 0) {
      const h = c.holdUpdates;
      // Compare-and-set on state and drawn: a draw or resolution elsewhere fails this batch.
      cas(
        "hu",
        `UPDATE holds x SET state = v.state, drawn = v.drawn, resolved_at_ms = v.resolved, released = v.released
         FROM unnest(${arg(
           h.map((r) => r.holdId),
           "text",
         )}, ${arg(
           h.map((r) => r.fromState),
           "text",
         )}, ${arg(
           h.map((r) => r.fromDrawn),
           "bigint",
         )},
           ${arg(
             h.map((r) => r.state),
             "text",
           )}, ${arg(
             h.map((r) => r.drawn),
             "bigint",
           )}, ${arg(
             h.map((r) => r.resolvedAtMs),
             "bigint",
           )}, ${arg(
             h.map((r) => r.released),
             "bigint",
           )})
           AS v(hold_id, from_state, from_drawn, state, drawn, resolved, released)
         WHERE x.hold_id = v.hold_id AND x.state = v.from_state AND x.drawn = v.from_drawn`,
        h.length,
      );
    }
    if (c.holdDraws.length > 0) {
      const d = c.holdDraws;
      insert(
        "hdi",
        `INSERT INTO hold_draws (transfer_id, hold_id, tenant, amount, at_ms)
         SELECT * FROM unnest(${arg(
           d.map((x) => x.transferId),
           "text",
         )}, ${arg(
           d.map((x) => x.holdId),
           "text",
         )}, ${arg(
           d.map((x) => x.tenant),
           "text",
         )}, ${arg(
           d.map((x) => x.amount),
           "bigint",
         )}, ${arg(
           d.map((x) => x.atMs),
           "bigint",
         )})`,
      );
    }
    if (c.entries.length > 0) {
      const e = c.entries;
      // WITH ORDINALITY keeps the engine's order in seq.
      insert(
        "ei",
        `INSERT INTO entries (entry_id, tenant, class, grant_id, transfer_id, kind, amount, ref_entry_id, at_ms)
         SELECT a, b, c, d, e, f, g, h, i FROM unnest(${arg(
           e.map((x) => x.entryId),
           "text",
         )},
           ${arg(
             e.map((x) => x.tenant),
             "text",
           )}, ${arg(
             e.map((x) => x.class),
             "text",
           )},
           ${arg(
             e.map((x) => x.grantId),
             "text",
           )}, ${arg(
             e.map((x) => x.transferId),
             "text",
           )},
           ${arg(
             e.map((x) => x.kind),
             "text",
           )}, ${arg(
             e.map((x) => x.amount),
             "bigint",
           )},
           ${arg(
             e.map((x) => x.refEntryId),
             "text",
           )}, ${arg(
             e.map((x) => x.atMs),
             "bigint",
           )})
           WITH ORDINALITY AS v(a, b, c, d, e, f, g, h, i, n) ORDER BY n`,
      );
    }
    if (c.audit.length > 0) {
      const a = c.audit.map((x) => x.record);
      insert(
        "ai",
        `INSERT INTO audit_records (seq, prev_hash, hash, at_ms, kind, tenant, data, principal, decision_id)
         SELECT * FROM unnest(${arg(
           a.map((x) => x.seq),
           "bigint",
         )}, ${arg(
           a.map((x) => x.prev_hash),
           "text",
         )},
           ${arg(
             a.map((x) => x.hash),
             "text",
           )}, ${arg(
             a.map((x) => x.at_ms),
             "bigint",
           )},
           ${arg(
             a.map((x) => x.kind),
             "text",
           )}, ${arg(
             a.map((x) => x.tenant),
             "text",
           )},
           ${arg(
             c.audit.map((x) => x.dataText),
             "text",
           )}, ${arg(
             c.audit.map((x) => x.keys.principal),
             "text",
           )},
           ${arg(
             c.audit.map((x) => x.keys.decisionId),
             "text",
           )})`,
      );
    }
    if (c.head.to.seq !== c.head.from.seq) {
      params.push(c.head.to.seq, c.head.to.hash, c.head.from.seq, c.head.from.hash);
      const n = params.length;
      cas(
        "hd",
        `UPDATE audit_head SET seq = $${n - 3}::bigint, hash = $${n - 2}::text
         WHERE id = 1 AND seq = $${n - 1}::bigint AND hash = $${n}::text`,
        1,
      );
    }
    if (c.idempotency.length > 0) {
      const i = c.idempotency;
      insert(
        "ii",
        `INSERT INTO idempotency (tenant, key, op, fingerprint, result)
         SELECT * FROM unnest(${arg(
           i.map((x) => x.tenant),
           "text",
         )}, ${arg(
           i.map((x) => x.key),
           "text",
         )},
           ${arg(
             i.map((x) => x.op),
             "text",
           )}, ${arg(
             i.map((x) => x.fingerprint),
             "text",
           )},
           ${arg(
             i.map((x) => x.result),
             "text",
           )})`,
      );
    }
    if (c.usage.length > 0) {
      const u = c.usage;
      insert(
        "ui",
        `INSERT INTO usage_counters (tenant, scope, win, window_start_ms, calls, credits)
         SELECT * FROM unnest(${arg(
           u.map((x) => x.tenant),
           "text",
         )}, ${arg(
           u.map((x) => x.scope),
           "text",
         )},
           ${arg(
             u.map((x) => x.window),
             "text",
           )}, ${arg(
             u.map((x) => x.windowStartMs),
             "bigint",
           )},
           ${arg(
             u.map((x) => x.calls),
             "bigint",
           )}, ${arg(
             u.map((x) => x.credits),
             "bigint",
           )})
         ON CONFLICT (tenant, scope, win, window_start_ms)
         DO UPDATE SET calls = usage_counters.calls + excluded.calls, credits = usage_counters.credits + excluded.credits`,
      );
    }
    if (c.revocations.length > 0) {
      const r = c.revocations;
      insert(
        "ri",
        `INSERT INTO revocations (revocation_id, tenant, kind, subject, reason, at_ms)
         SELECT * FROM unnest(${arg(
           r.map((x) => x.revocationId),
           "text",
         )}, ${arg(
           r.map((x) => x.tenant),
           "text",
         )},
           ${arg(
             r.map((x) => x.kind),
             "text",
           )}, ${arg(
             r.map((x) => x.subject),
             "text",
           )},
           ${arg(
             r.map((x) => x.reason),
             "text",
           )}, ${arg(
             r.map((x) => x.atMs),
             "bigint",
           )})`,
      );
    }
    if (ctes.length === 0) return;
    const select =
      checks.length === 0
        ? "SELECT 1"
        : `SELECT ${checks.map((k) => `(SELECT count(*) FROM ${k.name}) AS ${k.name}`).join(", ")}`;
    const text = `WITH ${ctes.join(",\n")}\n${select}`;
    // Named, so each connection parses and plans each change-set shape once.
    const result = await this.#c.query<Row>({ name: statementName(text), text, values: params });
    const counts = result.rows[0] ?? {};
    for (const k of checks) must(Number(counts[k.name]), k.expected, k.name);
  }
}
