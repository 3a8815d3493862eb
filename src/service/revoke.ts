/**
 * Revoking, the same way from the API and the CLI: the ledger records it (audited, idempotent),
 * then this instance applies it at once and, where the store has a revocation feed
 * (PostgreSQL), every other instance is told.
 * A failed notification is not a failed revocation: the other instances' refresh reads it
 * from the store within limits.revocationRefreshMs.
 */
import type { OpResult } from "../ledger/codes.js";
import type { LedgerStore } from "../ledger/port.js";
import type { RevokeRequest, RevokeValue } from "../ledger/types.js";
import type { RevocationFeed } from "../storage/open.js";
import type { RevocationIndex } from "./revocations.js";

export interface RevokeTargets {
  readonly store: LedgerStore;
  readonly index?: RevocationIndex;
  readonly feed?: RevocationFeed;
  readonly onNotifyError?: (error: Error) => void;
}

export async function revoke(
  targets: RevokeTargets,
  request: RevokeRequest,
): Promise<OpResult<RevokeValue>> {
  const outcome = await targets.store.revoke(request);
  if (!outcome.ok) return outcome;
  const notice = { tenant: request.tenant, kind: request.kind, subject: request.subject };
  targets.index?.add(notice);
  try {
    await targets.feed?.publish(notice);
  } catch (error) {
    targets.onNotifyError?.(error as Error);
  }
  return outcome;
}
