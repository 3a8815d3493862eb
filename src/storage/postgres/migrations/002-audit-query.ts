/**
 * Version 2: audit records get `principal` and `decision_id`, derived from the stored data
 * (`data.context.principal.id`, `data.context.decision_id`) by the rule of
 * src/audit/index-keys.ts, which the backfill repeats, and indexes for audit queries by tenant,
 * principal, decision and time. The columns are not hashed, so the chain is unchanged.
 * Runs in the migration transaction: on a large table the backfill and index builds hold writers
 * off until they finish (instances start under the migration lock anyway).
 */
// limits.auditIndexValueBytesMax when this was published; a published migration never changes.
const valueBytesMax = 1_024;

/**
 * PostgreSQL's JSON functions refuse a \u0000 escape anywhere in a document, so a record holding
 * one is parsed with it replaced by U+FFFD, and a value that then shows U+FFFD is treated as the
 * NUL it was (not indexed). The migration must not fail on what some caller once wrote.
 * Escaped backslashes are first parked on chr(1), which canonical JSON never holds raw (control
 * characters are escaped), so the text `\\u0000` (a backslash, then "u0000") is left alone.
 */
function derived(path: string): string {
  const value = `j #>> '${path}'`;
  return `CASE WHEN json_typeof(j #> '${path}') = 'string'
    AND octet_length(${value}) <= ${valueBytesMax}
    AND NOT (had_nul AND strpos(${value}, chr(65533)) > 0) THEN ${value} END`;
}

export const auditQuery = {
  version: 2,
  name: "audit-query",
  sql: `
ALTER TABLE audit_records ADD COLUMN principal TEXT, ADD COLUMN decision_id TEXT;

-- The backfill is the one sanctioned UPDATE: the append-only trigger is off only inside this
-- migration's transaction, and only the derived columns change.
ALTER TABLE audit_records DISABLE TRIGGER audit_append_only;
UPDATE audit_records a SET principal = v.principal, decision_id = v.decision_id
FROM (
  SELECT seq, ${derived("{context,principal,id}")} AS principal,
    ${derived("{context,decision_id}")} AS decision_id
  FROM (
    SELECT seq, replace(replace(parked, '\\u0000', '\\ufffd'), chr(1), '\\\\')::json AS j,
      strpos(parked, '\\u0000') > 0 AS had_nul
    FROM (
      SELECT seq, replace(data, '\\\\', chr(1)) AS parked
      FROM audit_records WHERE strpos(data, '"context":{') > 0
    ) raw
  ) parsed
) v
WHERE a.seq = v.seq AND (v.principal IS NOT NULL OR v.decision_id IS NOT NULL);
ALTER TABLE audit_records ENABLE TRIGGER audit_append_only;

CREATE INDEX audit_tenant ON audit_records (tenant, seq);
CREATE INDEX audit_principal ON audit_records (principal, seq) WHERE principal IS NOT NULL;
CREATE INDEX audit_decision ON audit_records (decision_id) WHERE decision_id IS NOT NULL;
CREATE INDEX audit_at ON audit_records (at_ms);
`,
} as const;
