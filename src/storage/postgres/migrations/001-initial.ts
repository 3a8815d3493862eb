/** Version 1: balances, grants, holds, append-only entries and audit records, idempotency, usage. */
export const initial = {
  version: 1,
  name: "initial",
  sql: `
CREATE TABLE tenants (
  tenant TEXT PRIMARY KEY,
  next_hold_expiry_at_ms BIGINT
);

CREATE TABLE balances (
  tenant TEXT NOT NULL REFERENCES tenants (tenant),
  class TEXT NOT NULL CHECK (class IN ('trial', 'paid', 'promo', 'admin')),
  posted BIGINT NOT NULL,
  held BIGINT NOT NULL CHECK (held >= 0),
  PRIMARY KEY (tenant, class)
);

CREATE TABLE grants (
  grant_id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL REFERENCES tenants (tenant),
  class TEXT NOT NULL CHECK (class IN ('trial', 'paid', 'promo', 'admin')),
  amount BIGINT NOT NULL CHECK (amount > 0),
  remaining BIGINT NOT NULL CHECK (remaining >= 0 AND remaining <= amount),
  status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'expired')),
  effective_at_ms BIGINT NOT NULL,
  expires_at_ms BIGINT CHECK (expires_at_ms IS NULL OR expires_at_ms > effective_at_ms),
  priority INTEGER NOT NULL,
  source TEXT NOT NULL,
  reference TEXT,
  created_at_ms BIGINT NOT NULL
);
CREATE INDEX grants_open ON grants (tenant) WHERE status = 'pending' OR (status = 'active' AND remaining > 0);
CREATE INDEX grants_due_effective ON grants (effective_at_ms) WHERE status = 'pending';
CREATE INDEX grants_due_expiry ON grants (expires_at_ms)
  WHERE status = 'active' AND remaining > 0 AND expires_at_ms IS NOT NULL;

CREATE TABLE holds (
  hold_id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL REFERENCES tenants (tenant),
  amount BIGINT NOT NULL CHECK (amount > 0),
  parts TEXT NOT NULL,
  draw_order TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('active', 'committed', 'released', 'expired')),
  created_at_ms BIGINT NOT NULL,
  expires_at_ms BIGINT NOT NULL,
  resolved_at_ms BIGINT
);
CREATE INDEX holds_active ON holds (tenant, expires_at_ms) WHERE state = 'active';
CREATE INDEX holds_due ON holds (expires_at_ms) WHERE state = 'active';
CREATE INDEX holds_history ON holds (tenant, created_at_ms);

CREATE TABLE entries (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  entry_id TEXT NOT NULL UNIQUE,
  tenant TEXT NOT NULL,
  class TEXT NOT NULL CHECK (class IN ('trial', 'paid', 'promo', 'admin')),
  grant_id TEXT,
  transfer_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('grant', 'debit', 'commit', 'expiry', 'reversal')),
  amount BIGINT NOT NULL CHECK (amount <> 0),
  ref_entry_id TEXT,
  at_ms BIGINT NOT NULL
);
CREATE INDEX entries_transfer ON entries (transfer_id);
CREATE INDEX entries_tenant ON entries (tenant, at_ms);
CREATE INDEX entries_ref ON entries (ref_entry_id) WHERE ref_entry_id IS NOT NULL;

-- One row, locked by every write transaction: several instances append one linear chain.
CREATE TABLE audit_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq BIGINT NOT NULL,
  hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '${"0".repeat(64)}');

CREATE TABLE audit_records (
  seq BIGINT PRIMARY KEY,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  at_ms BIGINT NOT NULL,
  kind TEXT NOT NULL,
  tenant TEXT,
  data TEXT NOT NULL
);

CREATE TABLE idempotency (
  tenant TEXT NOT NULL,
  key TEXT NOT NULL,
  op TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  result TEXT NOT NULL,
  PRIMARY KEY (tenant, key)
);

CREATE TABLE usage_counters (
  tenant TEXT NOT NULL,
  scope TEXT NOT NULL,
  win TEXT NOT NULL,
  window_start_ms BIGINT NOT NULL,
  calls BIGINT NOT NULL CHECK (calls >= 0),
  credits BIGINT NOT NULL CHECK (credits >= 0),
  PRIMARY KEY (tenant, scope, win, window_start_ms)
);

CREATE TABLE revocations (
  revocation_id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('principal', 'token', 'tenant', 'task', 'grant')),
  subject TEXT NOT NULL,
  reason TEXT NOT NULL,
  at_ms BIGINT NOT NULL
);
CREATE INDEX revocations_subject ON revocations (tenant, kind, subject);

-- Append-only, enforced by the database itself, not only by the code that writes.
CREATE FUNCTION creditgate_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% are append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER entries_append_only BEFORE UPDATE OR DELETE ON entries
  FOR EACH ROW EXECUTE FUNCTION creditgate_append_only();
CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON entries
  FOR EACH STATEMENT EXECUTE FUNCTION creditgate_append_only();
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit_records
  FOR EACH ROW EXECUTE FUNCTION creditgate_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_records
  FOR EACH STATEMENT EXECUTE FUNCTION creditgate_append_only();
CREATE TRIGGER revocations_append_only BEFORE UPDATE OR DELETE ON revocations
  FOR EACH ROW EXECUTE FUNCTION creditgate_append_only();
CREATE TRIGGER idempotency_append_only BEFORE UPDATE OR DELETE ON idempotency
  FOR EACH ROW EXECUTE FUNCTION creditgate_append_only();
`,
} as const;
