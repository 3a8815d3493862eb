/**
 * The configuration as it may be shown (`creditgate config check`, logs): secret fields — the
 * schema's `writeOnly` properties and any property named like a credential — are replaced, and
 * credentials inside any URL are masked wherever the URL appears.
 */
import { configFields, isSecret, type SchemaNode } from "./fields.js";

const redacted = "[redacted]";

/** `scheme://user:password@host` → `scheme://user:[redacted]@host`; `?password=` likewise. */
export function redactUrlCredentials(value: string): string {
  return value
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*):[^/?#]*@/i, `$1:${redacted}@`)
    .replace(/([?&](?:password|passwd|secret|token)=)[^&#]*/gi, `$1${redacted}`);
}

function redactSecret(value: unknown): unknown {
  if (typeof value !== "string") return redacted;
  // A connection string stays useful (host, database) with only its credentials hidden.
  const masked = redactUrlCredentials(value);
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? masked : redacted;
}

/** Dotted schema path (with `[]` for array items) → that property's schema. */
function schemaIndex(): ReadonlyMap<string, SchemaNode> {
  return new Map(configFields().map((field) => [field.path, field.schema]));
}

function walk(value: unknown, path: string, index: ReadonlyMap<string, SchemaNode>): unknown {
  if (typeof value === "string") return redactUrlCredentials(value);
  if (Array.isArray(value)) return value.map((item) => walk(item, `${path}[]`, index));
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const childPath = path === "" ? key : `${path}.${key}`;
    const schema = index.get(childPath) ?? {};
    out[key] = isSecret(key, schema) ? redactSecret(child) : walk(child, childPath, index);
  }
  return out;
}

/** A redacted deep copy; the input is not changed. */
export function redactConfig(config: unknown): unknown {
  return walk(config, "", schemaIndex());
}
