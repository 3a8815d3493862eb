/**
 * Ids for what an operation creates (transfers, holds, grants, revocations), in the format of
 * src/ids.ts (`prefix_` + 48-bit time + 80 bits, Crockford base32) but with the 80 bits taken from
 * sha256(tenant, key, what) instead of the system RNG: newId's randomBytes costs more than the rest
 * of a debit's id work, and (tenant, key) is unique among applied operations, so the id is too.
 * A replay of the same key therefore also names the same id.
 */
import { createHash } from "node:crypto";
import { type IdKind, idPrefixes } from "../ids.js";

const alphabet = "0123456789abcdefghjkmnpqrstvwxyz";

export function opId(
  kind: IdKind,
  nowMs: number,
  tenant: string,
  key: string,
  what: string,
): string {
  const bytes = new Uint8Array(16);
  const time = Math.floor(nowMs);
  for (let i = 5; i >= 0; i--) bytes[5 - i] = Math.floor(time / 2 ** (8 * i)) & 0xff;
  bytes.set(
    createHash("sha256").update(`${tenant}\u0000${key}\u0000${what}`).digest().subarray(0, 10),
    6,
  );
  let out = "";
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return `${idPrefixes[kind]}_${out}`;
}
