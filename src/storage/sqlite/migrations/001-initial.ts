/** Version 1: balances, grants, holds, append-only entries and audit records, idempotency, usage. */
export const initial = {
  version: 1,
  name: "initial",
  sql: `
CREATE TABLE tenants (
  tenant TEXT PRIMARY KEY,
  next_hold_expiry_at_ms INTEGER
) WITHOUT ROWID;

CREATE TABLE balances (
  tenant TEXT NOT NULL,
  class TEXT NOT NULL CHECK (class IN ('trial', 'paid', 'promo', 'admin')),
  posted INTEGER NOT NULL,
  held INTEGER NOT NULL CHECK (held >= 0),
  PRIMARY KEY (tenant, class)
) WITHOUT ROWID;

CREATE TABLE grants (
  grant_id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  class TEXT NOT NULL CHECK (class IN ('trial', 'paid', 'promo', 'admin')),
  amount INTEGER NOT NULL CHECK (amount > 0),
  remaining INTEGER NOT NULL CHECK (remaining >= 0 AND remaining <= amount),
  status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'expired')),
  effective_at_ms INTEGER NOT NULL,
  expires_at_ms INTEGER CHECK (expires_at_ms IS NULL OR expires_at_ms > effective_at_ms),
  priority INTEGER NOT NULL,
  source TEXT NOT NULL,
  reference TEXT,
  created_at_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX grants_open ON grants (tenant) WHERE status = 'pending' OR (status = 'active' AND remaining > 0);
CREATE INDEX grants_due_effective ON grants (effective_at_ms) WHERE status = 'pending';
CREATE INDEX grants_due_expiry ON grants (expires_at_ms)
  WHERE status = 'active' AND remaining > 0 AND expires_at_ms IS NOT NULL;

CREATE TABLE holds (
  hold_id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  amount INTEGER NOT NULL CHECK (amount > 0),
  parts TEXT NOT NULL,
  draw_order TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('active', 'committed', 'released', 'expired')),
  created_at_ms INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL,
  resolved_at_ms INTEGER
) WITHOUT ROWID;
CREATE INDEX holds_active ON holds (tenant, expires_at_ms) WHERE state = 'active';
CREATE INDEX holds_due ON holds (expires_at_ms) WHERE state = 'active';
CREATE INDEX holds_history ON holds (tenant, created_at_ms);

CREATE TABLE entries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  entry_id TEXT NOT NULL UNIQUE,
  tenant TEXT NOT NULL,
  class TEXT NOT NULL CHECK (class IN ('trial', 'paid', 'promo', 'admin')),
  grant_id TEXT,
  transfer_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('grant', 'debit', 'commit', 'expiry', 'reversal')),
  amount INTEGER NOT NULL CHECK (amount <> 0),
  ref_entry_id TEXT,
  at_ms INTEGER NOT NULL
);
CREATE INDEX entries_transfer ON entries (transfer_id);
CREATE INDEX entries_tenant ON entries (tenant, at_ms);
CREATE INDEX entries_ref ON entries (ref_entry_id) WHERE ref_entry_id IS NOT NULL;

CREATE TABLE audit_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '${"0".repeat(64)}');

CREATE TABLE audit_records (
  seq INTEGER PRIMARY KEY,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  kind TEXT NOT NULL,
  tenant TEXT,
  data TEXT NOT NULL
);

-- Rows are appended in time order; only the narrow (tenant, key) index takes random inserts.
CREATE TABLE idempotency (
  id INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL,
  key TEXT NOT NULL,
  op TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  result TEXT NOT NULL
);
CREATE UNIQUE INDEX idempotency_key ON idempotency (tenant, key);

CREATE TABLE usage_counters (
  tenant TEXT NOT NULL,
  scope TEXT NOT NULL,
  win TEXT NOT NULL,
  window_start_ms INTEGER NOT NULL,
  calls INTEGER NOT NULL CHECK (calls >= 0),
  credits INTEGER NOT NULL CHECK (credits >= 0),
  PRIMARY KEY (tenant, scope, win, window_start_ms)
) WITHOUT ROWID;

CREATE TABLE revocations (
  revocation_id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('principal', 'token', 'tenant', 'task', 'grant')),
  subject TEXT NOT NULL,
  reason TEXT NOT NULL,
  at_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX revocations_subject ON revocations (tenant, kind, subject);

-- Append-only, enforced by the database itself, not only by the code that writes.
CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries
  BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END;
CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
  BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_records
  BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_records
  BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER revocations_no_update BEFORE UPDATE ON revocations
  BEGIN SELECT RAISE(ABORT, 'revocations are append-only'); END;
CREATE TRIGGER revocations_no_delete BEFORE DELETE ON revocations
  BEGIN SELECT RAISE(ABORT, 'revocations are append-only'); END;
CREATE TRIGGER idempotency_no_update BEFORE UPDATE ON idempotency
  BEGIN SELECT RAISE(ABORT, 'idempotency records are append-only'); END;
CREATE TRIGGER idempotency_no_delete BEFORE DELETE ON idempotency
  BEGIN SELECT RAISE(ABORT, 'idempotency records are append-only'); END;
`,
} as const;
