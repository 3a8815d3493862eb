/**
 * Ledger result codes, TigerBeetle-style, in precedence order: when several apply, the first
 * in this list is the answer. A refusal is a value, not a thrown error.
 */
export const resultCodes = [
  "ok",
  // Idempotency comes first: a replay answers with the original result whatever the state now.
  "exists",
  "exists_with_different_request",
  // Validation of values (types are the caller's bug and throw TypeError).
  "amount_not_positive",
  "amount_exceeds_max",
  "draw_order_invalid",
  "floor_invalid",
  "ttl_out_of_range",
  "expires_in_past",
  "expires_not_after_effective",
  "overage_allowance_invalid",
  // State.
  "hold_not_found",
  // The hold has an owner and the request names another (or none): said before its state, so a
  // principal learns nothing about a hold it does not own.
  "hold_not_owned",
  "hold_expired",
  "hold_already_committed",
  "hold_released",
  "commit_exceeds_hold",
  "hold_insufficient",
  "transfer_not_found",
  "transfer_not_reversible",
  "reversal_exceeds_remaining",
  // Velocity limits (UsageIncrement.maxCalls / maxCredits), checked before drawing credit.
  "usage_limit_exceeded",
  "insufficient_credits",
] as const;

export type ResultCode = (typeof resultCodes)[number];
export type RefusalCode = Exclude<ResultCode, "ok" | "exists">;

export type OpResult<V> =
  | { readonly ok: true; readonly code: "ok" | "exists"; readonly value: V }
  | { readonly ok: false; readonly code: RefusalCode };

export function refuse(code: RefusalCode): { readonly ok: false; readonly code: RefusalCode } {
  return { ok: false, code };
}
