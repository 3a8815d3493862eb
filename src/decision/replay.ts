/**
 * Answering a retried idempotency key with the identical response. A decision is one ledger
 * operation under the caller's key: a record without effect (a deny), a debit, a hold (with an
 * agent task's fee in the same operation), or a task's draw. Its audit record's context holds the
 * response template (balances before the decision); the final balances are that template minus
 * the parts the ledger recorded, which is exactly how the original response was computed.
 */
import { canonicalize, type JsonValue } from "../audit/canonical.js";
import { CreditgateError } from "../errors.js";
import type { IdempotencyRecord, LedgerStore } from "../ledger/port.js";
import type { ClassAmounts, CreditClass, Part } from "../ledger/types.js";
import type { Action } from "../policy/types.js";
import type { DecisionResponse } from "./types.js";

/** What the audit context of a decision's primary record carries for replay. */
export interface ReplayContext {
  readonly principal: {
    readonly kind: string;
    readonly id: string;
    readonly tenant: string;
    readonly issuer: string;
    readonly jti?: string;
  };
  readonly action: Action;
  readonly response: DecisionResponse;
}

export function subtractParts(
  available: ClassAmounts,
  parts: readonly Part[],
): Record<CreditClass, number> {
  const next = { ...available };
  for (const part of parts) next[part.class] -= part.amount;
  return next;
}

/** The template after the ledger: computed the same way on first answer and on replay. */
export function finalize(
  template: DecisionResponse,
  holdId: string | undefined,
  parts: readonly Part[],
): DecisionResponse {
  return {
    ...template,
    ...(holdId === undefined ? {} : { hold_id: holdId }),
    balances: subtractParts(template.balances, parts),
  };
}

interface RecordedValue {
  readonly auditSeq: number;
  readonly parts?: readonly Part[];
  readonly holdId?: string;
  readonly fee?: { readonly parts: readonly Part[] };
}

/** The ledger operations a decision's primary record can be. */
const decisionOps = new Set(["decision", "debit", "hold", "draw"]);

async function contextOf(store: LedgerStore, auditSeq: number): Promise<ReplayContext> {
  const [record] = await store.auditRecords(auditSeq - 1, 1);
  if (record === undefined || record.seq !== auditSeq) {
    throw new CreditgateError("INTERNAL", { message: `audit record ${auditSeq} is missing` });
  }
  const context = record.data.context as Partial<ReplayContext> | null | undefined;
  if (context?.response === undefined) {
    // The key names a ledger operation that was not a decision (e.g. a debit made directly).
    throw new CreditgateError("IDEMPOTENCY_CONFLICT", {
      message: "this Idempotency-Key was used for a different operation",
      details: { reason: "different_operation" },
    });
  }
  return context as ReplayContext;
}

/** Who asked: a key answers only the same principal (kind, id and issuer) that first used it. */
export interface ReplayPrincipal {
  readonly kind: string;
  readonly id: string;
  readonly issuer: string;
}

function sameRequest(context: ReplayContext, principal: ReplayPrincipal, action: Action): boolean {
  return (
    context.principal.id === principal.id &&
    context.principal.kind === principal.kind &&
    context.principal.issuer === principal.issuer &&
    canonicalize(context.action as unknown as JsonValue) ===
      canonicalize(action as unknown as JsonValue)
  );
}

/**
 * The recorded response for `key`; IDEMPOTENCY_CONFLICT when the key was used for a different
 * request (another principal or action), IDEMPOTENCY_IN_PROGRESS while its decision is enforced.
 */
export async function replayDecision(
  store: LedgerStore,
  request: { principal: ReplayPrincipal; action: Action },
  primary: IdempotencyRecord,
): Promise<DecisionResponse> {
  if (!decisionOps.has(primary.op)) {
    throw new CreditgateError("IDEMPOTENCY_CONFLICT", {
      message: "this Idempotency-Key was used for a different operation",
      details: { reason: "different_operation", op: primary.op },
    });
  }
  const value = primary.value as RecordedValue;
  const context = await contextOf(store, value.auditSeq);
  if (!sameRequest(context, request.principal, request.action)) {
    throw new CreditgateError("IDEMPOTENCY_CONFLICT", {
      message: "this Idempotency-Key was used for a different request",
      details: { reason: "different_request" },
    });
  }
  const template = context.response;
  switch (primary.op) {
    case "decision":
      return template;
    case "hold":
      // The hold and, for an agent task, its fee: one ledger operation.
      return finalize(template, value.holdId, [
        ...(value.fee?.parts ?? []),
        ...(value.parts ?? []),
      ]);
    default:
      // A debit, or a task's draw from its hold.
      return finalize(template, undefined, value.parts ?? []);
  }
}
