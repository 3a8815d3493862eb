/**
 * Masking of configured fields before a record is hashed: the chain then proves the masked
 * record, and the raw value never reaches the audit table. Paths are dotted keys into `data`.
 */
import type { JsonValue } from "./canonical.js";

export const maskedValue = "[masked]";

export function maskFields(
  data: { readonly [key: string]: JsonValue },
  paths: readonly string[],
): { readonly [key: string]: JsonValue } {
  let out: { [key: string]: JsonValue } = data;
  for (const path of paths) out = maskPath(out, path.split("."));
  return out;
}

function maskPath(
  value: { readonly [key: string]: JsonValue },
  keys: readonly string[],
): { [key: string]: JsonValue } {
  const [head, ...rest] = keys;
  if (head === undefined || !Object.hasOwn(value, head)) return { ...value };
  const child = value[head];
  if (rest.length === 0) return { ...value, [head]: maskedValue };
  if (child === null || typeof child !== "object" || Array.isArray(child)) return { ...value };
  return { ...value, [head]: maskPath(child as { readonly [key: string]: JsonValue }, rest) };
}
