/**
 * Answering a retried idempotency key with the identical response. A decision leaves up to three
 * ledger records under keys derived from the caller's key: the primary effect (a deny or
 * effect-free record, a debit, or a hold) under the key itself, a hold after a fee under
 * `key:hold`, and the refund of that fee under `key:compensate` when the hold was refused. The
 * primary record's audit context holds the response template (balances before the decision);
 * the final balances are that template minus the parts the ledger recorded, which is exactly
 * how the original response was computed.
 */
import { canonicalize, type JsonValue } from "../audit/canonical.js";
import { CreditgateError } from "../errors.js";
import type { IdempotencyRecord, LedgerStore } from "../ledger/port.js";
import type { ClassAmounts, CreditClass, Part } from "../ledger/types.js";
import type { Action } from "../policy/types.js";
import type { DecisionResponse } from "./types.js";

export const holdKeySuffix = ":hold";
export const compensateKeySuffix = ":compensate";

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

function sameRequest(context: ReplayContext, principalId: string, action: Action): boolean {
  return (
    context.principal.id === principalId &&
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
  request: { tenant: string; key: string; principalId: string; action: Action },
  primary: IdempotencyRecord,
): Promise<DecisionResponse> {
  const { tenant, key } = request;
  if (!decisionOps.has(primary.op)) {
    throw new CreditgateError("IDEMPOTENCY_CONFLICT", {
      message: "this Idempotency-Key was used for a different operation",
      details: { reason: "different_operation", op: primary.op },
    });
  }
  const value = primary.value as RecordedValue;
  const context = await contextOf(store, value.auditSeq);
  if (!sameRequest(context, request.principalId, request.action)) {
    throw new CreditgateError("IDEMPOTENCY_CONFLICT", {
      message: "this Idempotency-Key was used for a different request",
      details: { reason: "different_request" },
    });
  }
  const template = context.response;
  if (primary.op === "decision") return template;
  if (primary.op === "hold") {
    return finalize(template, value.holdId, value.parts ?? []);
  }
  // A task's decision: one draw from the task's hold.
  if (primary.op === "draw") return finalize(template, undefined, value.parts ?? []);
  if (primary.op !== "debit") {
    throw new CreditgateError("IDEMPOTENCY_CONFLICT", {
      message: "this Idempotency-Key was used for a different operation",
      details: { reason: "different_operation", op: primary.op },
    });
  }
  const debitParts = value.parts ?? [];
  if (template.hold === undefined) {
    return finalize(template, undefined, debitParts);
  }
  // A fee followed by a hold: the outcome is the hold, or the refund when the hold was refused.
  const holdKey = `${key}${holdKeySuffix}`;
  const compensateKey = `${key}${compensateKeySuffix}`;
  const followUps = await store.idempotencyRecords(tenant, [holdKey, compensateKey]);
  const compensated = followUps.get(compensateKey);
  if (compensated !== undefined) {
    return (await contextOf(store, (compensated.value as RecordedValue).auditSeq)).response;
  }
  const held = followUps.get(holdKey);
  if (held === undefined) {
    throw new CreditgateError("IDEMPOTENCY_IN_PROGRESS");
  }
  const heldValue = held.value as RecordedValue;
  return finalize(template, heldValue.holdId, [...debitParts, ...(heldValue.parts ?? [])]);
}
