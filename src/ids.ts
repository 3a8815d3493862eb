/** Type-prefixed, sortable, random ids: the prefix says what an id names (dec_, grt_, hld_, aud_). */
import { randomFillSync } from "node:crypto";

export const idPrefixes = {
  decision: "dec",
  grant: "grt",
  hold: "hld",
  audit: "aud",
  entry: "ent",
  reversal: "rev",
  revocation: "rvk",
  task: "tsk",
  request: "req",
} as const;

export type IdKind = keyof typeof idPrefixes;

const alphabet = "0123456789abcdefghjkmnpqrstvwxyz"; // Crockford base32, lowercase

function base32(bytes: Uint8Array): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

// Random bytes are drawn in blocks: one call into the CSPRNG per 409 ids, not per id.
const randomPool = new Uint8Array(4096);
let randomOffset = randomPool.length;

function random10(into: Uint8Array): void {
  if (randomOffset + 10 > randomPool.length) {
    randomFillSync(randomPool);
    randomOffset = 0;
  }
  into.set(randomPool.subarray(randomOffset, randomOffset + 10), 6);
  randomOffset += 10;
}

/** `prefix_` + 48-bit millisecond time + 80 random bits, so ids sort by creation time. */
export function newId(kind: IdKind, nowMs: number = Date.now()): string {
  const bytes = new Uint8Array(16);
  const time = Math.floor(nowMs);
  for (let i = 5; i >= 0; i--) bytes[5 - i] = Math.floor(time / 2 ** (8 * i)) & 0xff;
  random10(bytes);
  return `${idPrefixes[kind]}_${base32(bytes)}`;
}
