/**
 * Answering a retried idempotency key with the identical response. A decision is one ledger
 * operation under the caller's key: a record without effect (a deny), a debit, a hold (with an
 * agent task's fee in the same operation), or a task's draw. The operation keeps, with its
 * idempotency record (the value's `replay`, written in the same transaction), the response that
 * was sent and a keyed digest of who asked for what; a retry is answered from that alone, so what
 * the audit trail masks never changes a replay.
 */
import { canonicalize, type JsonValue } from "../audit/canonical.js";
import type { Pseudonyms } from "../audit/pseudonym.js";
import { CreditgateError } from "../errors.js";
import type { IdempotencyRecord } from "../ledger/port.js";
import type { ClassAmounts, CreditClass, Outcome, Part } from "../ledger/types.js";
import type { Action } from "../policy/types.js";
import type { DecisionResponse } from "./types.js";

function subtractParts(
  available: ClassAmounts,
  parts: readonly Part[],
): Record<CreditClass, number> {
  const next = { ...available };
  for (const part of parts) next[part.class] -= part.amount;
  return next;
}

/** The response after the ledger: the template's balances less what the operation took. */
export function finalize(template: DecisionResponse, outcome: Outcome): DecisionResponse {
  return {
    ...template,
    ...(outcome.holdId === undefined ? {} : { hold_id: outcome.holdId }),
    balances: subtractParts(template.balances, outcome.parts),
  };
}

/** Who asked: a key answers only the same principal (kind, id and issuer) that first used it. */
export interface ReplayPrincipal {
  readonly kind: string;
  readonly id: string;
  readonly issuer: string;
}

/** What a decision keeps with its idempotency record. */
export interface DecisionReplay {
  /** Keyed digest of the principal (kind, id, issuer) and the action: no raw id is kept. */
  readonly request_digest: string;
  /** The response as sent. */
  readonly response: DecisionResponse;
}

export function requestDigest(
  pseudonyms: Pseudonyms,
  principal: ReplayPrincipal,
  action: Action,
): string {
  return pseudonyms.of(
    canonicalize({
      principal: { kind: principal.kind, id: principal.id, issuer: principal.issuer },
      action: action as unknown as JsonValue,
    }),
  );
}

/** The ledger operations a decision's primary record can be. */
const decisionOps = new Set(["decision", "debit", "hold", "draw"]);

function differentOperation(op: string): CreditgateError {
  return new CreditgateError("IDEMPOTENCY_CONFLICT", {
    message: "this Idempotency-Key was used for a different operation",
    details: { reason: "different_operation", op },
  });
}

/** The replay a decision's ledger value carries; undefined for an operation that was not one. */
export function replayOf(value: unknown): DecisionReplay | undefined {
  const replay = (value as { replay?: Partial<DecisionReplay> } | null)?.replay;
  if (typeof replay?.request_digest !== "string" || typeof replay.response !== "object") {
    return undefined;
  }
  return replay as DecisionReplay;
}

/**
 * The recorded response for `key`; IDEMPOTENCY_CONFLICT when the key was used for another
 * operation (a debit made directly, a commit, ...) or a different request (another principal or
 * action).
 */
export function replayDecision(
  pseudonyms: Pseudonyms,
  request: { principal: ReplayPrincipal; action: Action },
  primary: IdempotencyRecord,
): DecisionResponse {
  const replay = decisionOps.has(primary.op) ? replayOf(primary.value) : undefined;
  if (replay === undefined) throw differentOperation(primary.op);
  if (replay.request_digest !== requestDigest(pseudonyms, request.principal, request.action)) {
    throw new CreditgateError("IDEMPOTENCY_CONFLICT", {
      message: "this Idempotency-Key was used for a different request",
      details: { reason: "different_request" },
    });
  }
  return replay.response;
}
