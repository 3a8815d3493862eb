/**
 * Revocations as the authentication path consults them: per tenant, read from the store on
 * first use and again after limits.revocationRefreshMs, so a check is a set lookup and another
 * instance's revocation takes effect within the refresh interval. A revocation made through
 * this instance applies at once (`add`). A store failure while loading refuses the token
 * (AUTH_REVOCATION_UNAVAILABLE, via the verifier): never fail open on revocation.
 */
import { type Clock, systemClock } from "../clock.js";
import type { RevocationQuery } from "../identity/index.js";
import type { LedgerStore } from "../ledger/port.js";
import type { Revocation } from "../ledger/types.js";
import { limits } from "../limits.js";

interface TenantRevocations {
  readonly subjects: Set<string>;
  /** Written through this instance: kept across reloads that may have read before the write. */
  readonly local: Set<string>;
  loadedMs: number;
  loading: Promise<void> | undefined;
}

function entry(kind: string, subject: string): string {
  return `${kind}\u0000${subject}`;
}

export class RevocationIndex {
  readonly #store: Pick<LedgerStore, "revocations">;
  readonly #clock: Clock;
  readonly #refreshMs: number;
  readonly #tenants = new Map<string, TenantRevocations>();

  constructor(
    store: Pick<LedgerStore, "revocations">,
    options: { clock?: Clock; refreshMs?: number } = {},
  ) {
    this.#store = store;
    this.#clock = options.clock ?? systemClock;
    this.#refreshMs = options.refreshMs ?? limits.revocationRefreshMs;
  }

  /** True when the token, its principal, its task or its whole tenant is revoked. */
  isRevoked(query: RevocationQuery): boolean | Promise<boolean> {
    const state = this.#tenants.get(query.tenant);
    const fresh = state !== undefined && this.#clock.nowMs() - state.loadedMs < this.#refreshMs;
    if (fresh) return this.#matches(state, query);
    return this.#load(query.tenant).then((loaded) => this.#matches(loaded, query));
  }

  /** A revocation this instance just wrote: effective before the store is read again. */
  add(revocation: Pick<Revocation, "tenant" | "kind" | "subject">): void {
    const state = this.#tenants.get(revocation.tenant);
    if (state === undefined) return;
    const key = entry(revocation.kind, revocation.subject);
    state.local.add(key);
    state.subjects.add(key);
  }

  /**
   * Another instance says this tenant's revocations changed: read them from the store on the
   * next check. The notice itself is never trusted as a revocation (anyone who can reach the
   * database can NOTIFY); only the store is.
   */
  stale(tenant: string): void {
    const state = this.#tenants.get(tenant);
    if (state !== undefined) state.loadedMs = Number.NEGATIVE_INFINITY;
  }

  #matches(state: TenantRevocations, query: RevocationQuery): boolean {
    const { subjects } = state;
    if (subjects.size === 0) return false;
    if (subjects.has(entry("tenant", query.tenant))) return true;
    if (subjects.has(entry("principal", query.principalId))) return true;
    if (query.jti !== undefined && subjects.has(entry("token", query.jti))) return true;
    // A task is stopped with the principal, or the token, that started it.
    if (query.parentId !== undefined && subjects.has(entry("principal", query.parentId))) {
      return true;
    }
    if (query.parentJti !== undefined && subjects.has(entry("token", query.parentJti))) {
      return true;
    }
    return query.kind === "task" && subjects.has(entry("task", query.principalId));
  }

  async #load(tenant: string): Promise<TenantRevocations> {
    let state = this.#tenants.get(tenant);
    if (state?.loading !== undefined) {
      await state.loading;
      return state;
    }
    if (state === undefined) {
      if (this.#tenants.size >= limits.revocationTenantsCachedMax) {
        this.#tenants.delete(this.#tenants.keys().next().value as string);
      }
      state = {
        subjects: new Set(),
        local: new Set(),
        loadedMs: Number.NEGATIVE_INFINITY,
        loading: undefined,
      };
      this.#tenants.set(tenant, state);
    }
    const target = state;
    target.loading = (async () => {
      const startedMs = this.#clock.nowMs();
      const rows = await this.#store.revocations({ tenant });
      // Replace rather than merge: the store is the truth once read.
      target.subjects.clear();
      for (const row of rows) target.subjects.add(entry(row.kind, row.subject));
      for (const key of target.local) target.subjects.add(key);
      target.loadedMs = startedMs;
    })().finally(() => {
      target.loading = undefined;
    });
    await target.loading;
    return target;
  }
}
