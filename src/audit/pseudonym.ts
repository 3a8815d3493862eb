/**
 * Keyed pseudonyms (HMAC-SHA-256) for values that only need to be matched, never read back:
 * principal ids and token ids in usage counter scopes, the requester digest kept for replaying a
 * decision. Without the key a pseudonym cannot be tested against a guessed id, so these tables
 * hold no raw id whatever the audit trail masks. The key is `audit.pseudonym_key_file`
 * (src/audit/pseudonym-key.ts).
 */
import { createHmac } from "node:crypto";

export const pseudonymKeyBytes = 32;

export class Pseudonyms {
  readonly #key: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== pseudonymKeyBytes) {
      throw new TypeError(`a pseudonym key has ${pseudonymKeyBytes} bytes`);
    }
    this.#key = Buffer.from(key);
  }

  /** `p:` and the base64url HMAC-SHA-256 of `value` (45 characters). */
  of(value: string): string {
    return `p:${createHmac("sha256", this.#key).update(value).digest("base64url")}`;
  }
}
