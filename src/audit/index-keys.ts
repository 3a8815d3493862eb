/**
 * Columns derived from a record's stored (already masked) data so audit queries can use an index.
 * They are not part of the hash: the chain proves `data`, and these are a function of it, so a
 * migration may backfill them, and the SQL backfills (storage/{sqlite,postgres}/migrations/002)
 * repeat this rule.
 */
import { limits } from "../limits.js";
import type { JsonValue } from "./canonical.js";

export interface AuditIndexKeys {
  /** `data.context.principal.id`, if indexable. */
  readonly principal: string | null;
  /** `data.context.decision_id`, if indexable. */
  readonly decisionId: string | null;
}

function field(value: JsonValue | undefined, key: string): JsonValue | undefined {
  if (value === null || value === undefined || typeof value !== "object" || Array.isArray(value)) {
    return undefined;
  }
  return Object.hasOwn(value, key)
    ? (value as { readonly [k: string]: JsonValue })[key]
    : undefined;
}

/**
 * A string without NUL (PostgreSQL TEXT cannot hold one) of at most
 * `limits.auditIndexValueBytesMax` UTF-8 bytes (btree entries are bounded); anything else is not
 * indexed, so a write never fails on what a caller put in its context.
 */
function indexable(value: JsonValue | undefined): string | null {
  if (typeof value !== "string" || value.includes("\u0000")) return null;
  return Buffer.byteLength(value) <= limits.auditIndexValueBytesMax ? value : null;
}

export function auditIndexKeys(data: { readonly [key: string]: JsonValue }): AuditIndexKeys {
  const context = field(data, "context");
  return {
    principal: indexable(field(field(context, "principal"), "id")),
    decisionId: indexable(field(context, "decision_id")),
  };
}
