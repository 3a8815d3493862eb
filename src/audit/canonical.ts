/**
 * Canonical JSON in the style of RFC 8785 (JCS): object keys sorted by UTF-16 code units, no
 * whitespace, strings escaped as JSON.stringify does. Only integers are allowed as numbers, so
 * the number-formatting half of JCS never arises and hashes are stable across languages.
 */

export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

export function canonicalize(value: unknown): string {
  // The path is kept as a stack and joined only for an error message: this runs on every write.
  const path: (string | number)[] = [];
  try {
    return encode(value, path);
  } catch (error) {
    if (error instanceof NotCanonical) {
      const where = `$${path.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("")}`;
      throw new TypeError(`canonical JSON cannot encode ${error.message} at ${where}`);
    }
    throw error;
  }
}

class NotCanonical extends Error {}

function encode(value: unknown, path: (string | number)[]): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isSafeInteger(value))
        throw new NotCanonical(`the non-integer or unsafe number ${value}`);
      // -0 and 0 must encode identically.
      return value === 0 ? "0" : String(value);
    case "string":
      return JSON.stringify(value);
    case "object": {
      if (Array.isArray(value)) {
        let out = "[";
        for (let i = 0; i < value.length; i++) {
          path.push(i);
          out += (i === 0 ? "" : ",") + encode(value[i], path);
          path.pop();
        }
        return `${out}]`;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null)
        throw new NotCanonical("an object that is not plain");
      const record = value as Record<string, unknown>;
      // Default sort compares UTF-16 code units, which is what RFC 8785 prescribes.
      const keys = Object.keys(record).sort();
      let out = "{";
      let first = true;
      for (const key of keys) {
        const item = record[key];
        if (item === undefined) continue;
        path.push(key);
        out += `${first ? "" : ","}${JSON.stringify(key)}:${encode(item, path)}`;
        path.pop();
        first = false;
      }
      return `${out}}`;
    }
    default:
      throw new NotCanonical(typeof value);
  }
}
