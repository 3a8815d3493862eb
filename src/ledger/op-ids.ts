/**
 * Ids for what an operation creates (transfers, holds, grants, revocations), in the format of
 * src/ids.ts (`prefix_` + 48-bit time + 80 bits, Crockford base32) but with the 80 bits taken from
 * the operation's request fingerprint (a sha256 that covers tenant, key and operation) instead of
 * the system RNG, whose per-call cost was a visible share of a debit. (tenant, key) is unique among
 * applied operations, so the id is too.
 */
import { type IdKind, idPrefixes } from "../ids.js";

const alphabet = "0123456789abcdefghjkmnpqrstvwxyz";

export function opId(kind: IdKind, nowMs: number, fingerprintHex: string): string {
  if (!/^[0-9a-f]{20}/.test(fingerprintHex)) throw new TypeError("opId needs a hex fingerprint");
  const bytes = new Uint8Array(16);
  const time = Math.floor(nowMs);
  for (let i = 5; i >= 0; i--) bytes[5 - i] = Math.floor(time / 2 ** (8 * i)) & 0xff;
  bytes.set(Buffer.from(fingerprintHex.slice(0, 20), "hex"), 6);
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
