/**
 * Version 2: audit records get `principal` and `decision_id`, derived from the stored data
 * (`data.context.principal.id`, `data.context.decision_id`) by the rule of
 * src/audit/index-keys.ts, which the backfill repeats, and indexes for audit queries by tenant,
 * principal, decision and time. The columns are not hashed, so the chain is unchanged.
 */
// limits.auditIndexValueBytesMax when this was published; a published migration never changes.
const valueBytesMax = 1_024;

/** The value at `path` if it is text without NUL and within the byte bound, else NULL. */
function derived(path: string): string {
  const value = `json_extract(data, '${path}')`;
  return `CASE WHEN json_type(data, '${path}') = 'text'
    AND length(CAST(${value} AS BLOB)) <= ${valueBytesMax}
    AND instr(CAST(${value} AS BLOB), x'00') = 0 THEN ${value} END`;
}

export const auditQuery = {
  version: 2,
  name: "audit-query",
  sql: `
ALTER TABLE audit_records ADD COLUMN principal TEXT;
ALTER TABLE audit_records ADD COLUMN decision_id TEXT;

-- The backfill is the one sanctioned UPDATE: the trigger is dropped and recreated as it was, in
-- this migration's transaction, and only the derived columns change.
DROP TRIGGER audit_no_update;
UPDATE audit_records SET
  principal = ${derived("$.context.principal.id")},
  decision_id = ${derived("$.context.decision_id")}
WHERE json_type(data, '$.context') = 'object';
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_records
  BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;

CREATE INDEX audit_tenant ON audit_records (tenant, seq);
CREATE INDEX audit_principal ON audit_records (principal, seq) WHERE principal IS NOT NULL;
CREATE INDEX audit_decision ON audit_records (decision_id) WHERE decision_id IS NOT NULL;
CREATE INDEX audit_at ON audit_records (at_ms);
`,
} as const;
