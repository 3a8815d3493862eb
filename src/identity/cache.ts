/**
 * The verified-claims cache: skips signature verification for a token seen recently. Keyed by
 * the token's SHA-256 (the token itself is never stored), bounded in entries with
 * least-recently-used eviction, and never answers once the token's validity has ended.
 * Revocation is not decided here: the verifier consults it on every call, hit or miss.
 */
import type { VerifiedPrincipal } from "./types.js";

export interface CachedIdentity {
  readonly principal: VerifiedPrincipal;
  /** Whether the token came from an admin issuer; decides which routes accept it. */
  readonly admin: boolean;
  /** Epoch ms after which the entry is dead: the earlier of exp and iat + max token age. */
  readonly validUntilMs: number;
}

/** Which entries to drop; an entry matches when every given field matches. */
export interface CacheInvalidation {
  readonly tokenHash?: string;
  readonly jti?: string;
  readonly principalId?: string;
  readonly tenant?: string;
  readonly issuer?: string;
}

export class VerifiedTokenCache {
  readonly #entries = new Map<string, CachedIdentity>();
  readonly #entriesMax: number;

  constructor(entriesMax: number) {
    if (!Number.isInteger(entriesMax) || entriesMax < 0) {
      throw new TypeError("the cache size must be a non-negative integer");
    }
    this.#entriesMax = entriesMax;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(tokenHash: string, nowMs: number): CachedIdentity | undefined {
    const entry = this.#entries.get(tokenHash);
    if (entry === undefined) return undefined;
    this.#entries.delete(tokenHash);
    if (nowMs >= entry.validUntilMs) return undefined;
    // Map iteration order is insertion order: re-inserting makes this the most recent entry.
    this.#entries.set(tokenHash, entry);
    return entry;
  }

  set(entry: CachedIdentity, nowMs: number): void {
    if (this.#entriesMax === 0 || nowMs >= entry.validUntilMs) return;
    const key = entry.principal.tokenHash;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    while (this.#entries.size > this.#entriesMax) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
  }

  /** Drops matching entries (all of them when `match` is empty); returns how many. */
  invalidate(match: CacheInvalidation = {}): number {
    let dropped = 0;
    for (const [key, { principal }] of this.#entries) {
      const matches =
        (match.tokenHash === undefined || principal.tokenHash === match.tokenHash) &&
        (match.jti === undefined || principal.jti === match.jti) &&
        (match.principalId === undefined || principal.id === match.principalId) &&
        (match.tenant === undefined || principal.tenant === match.tenant) &&
        (match.issuer === undefined || principal.issuer === match.issuer);
      if (matches) {
        this.#entries.delete(key);
        dropped++;
      }
    }
    return dropped;
  }
}
