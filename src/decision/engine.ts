/**
 * The flow of one decision, in one place: read balances and usage → evaluate the policy with
 * `now` from the clock → enforce in the ledger (debit, or hold when the policy asks for one, in
 * the policy's draw order, with the usage increments) → the audit record is written by the same
 * ledger transaction → respond. Denies are answers, not errors; every failure fails closed.
 */
import { createHash } from "node:crypto";
import type { JsonValue } from "../audit/canonical.js";
import { canonicalize } from "../audit/canonical.js";
import { type Clock, systemClock, toRfc3339 } from "../clock.js";
import { CreditgateError, isCreditgateError } from "../errors.js";
import { newId } from "../ids.js";
import type { OpResult } from "../ledger/codes.js";
import type { LedgerStore } from "../ledger/port.js";
import type { AuditContext, ClassAmounts, CreditClass, Floors, Part } from "../ledger/types.js";
import type { PolicyEvaluator } from "../policy/evaluator.js";
import type { DecisionInput, DecisionResult, Reason } from "../policy/types.js";
import type { DecideRequest, DecisionResponse } from "./types.js";
import { usageIncrements, usageInput, usageKeys, usagePlan } from "./usage.js";

export interface PolicySource {
  /** Read once per decision, so a hot reload never splits one decision across two bundles. */
  readonly current: PolicyEvaluator;
}

export interface DecisionEngineOptions {
  readonly policy: PolicySource;
  readonly store: LedgerStore;
  readonly clock?: Clock;
  readonly holdTtlMs: number;
  /** Called once per decision, for metrics; never throws into the flow. */
  readonly observe?: (response: DecisionResponse, elapsedMs: number) => void;
}

/** Actions whose cost is an estimate carried entirely by the hold (settled at commit). */
const holdCarriesCost = new Set(["model.infer"]);

function sha256(text: string): string {
  return `sha256:${createHash("sha256").update(text).digest("hex")}`;
}

function floorsFrom(result: DecisionResult): Floors {
  const floors: Partial<Record<CreditClass, number>> = {};
  for (const [cls, amount] of Object.entries(result.obligations.overdraft ?? {})) {
    if (amount !== undefined && amount > 0) floors[cls as CreditClass] = -amount;
  }
  return floors;
}

function subtractParts(
  available: ClassAmounts,
  parts: readonly Part[],
): Record<CreditClass, number> {
  const next = { ...available };
  for (const part of parts) next[part.class] -= part.amount;
  return next;
}

function deny(reasons: readonly Reason[]): DecisionResult {
  return { allow: false, cost: 0, hold: 0, draw_order: [], obligations: {}, reasons };
}

export class DecisionEngine {
  readonly #options: DecisionEngineOptions;
  readonly #clock: Clock;

  constructor(options: DecisionEngineOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  async decide(request: DecideRequest): Promise<DecisionResponse> {
    const startedMs = performance.now();
    const response = await this.#decide(request);
    try {
      this.#options.observe?.(response, performance.now() - startedMs);
    } catch {
      // Metrics must never change a decision.
    }
    return response;
  }

  async #decide(request: DecideRequest): Promise<DecisionResponse> {
    const { principal, action } = request;
    const dryRun = request.dryRun === true;
    const key = request.idempotencyKey;
    if (!dryRun && (key === undefined || key === ""))
      throw new CreditgateError("IDEMPOTENCY_KEY_MISSING");

    const store = this.#options.store;
    const evaluator = this.#options.policy.current;
    const nowMs = this.#clock.nowMs();
    const plan = usagePlan(
      { tenant: principal.tenant, principalId: principal.id, keyId: principal.jti ?? principal.id },
      action,
    );
    const snapshot = await store.snapshot(principal.tenant, usageKeys(plan));
    const available = snapshot.balances.available;

    const input: DecisionInput = {
      principal: {
        kind: principal.kind,
        id: principal.id,
        tenant: principal.tenant,
        plan: principal.plan,
        roles: principal.roles,
        scopes: principal.scopes,
      },
      action,
      balances: available,
      usage: usageInput(plan, snapshot.usage),
      now: toRfc3339(nowMs),
    };

    let result: DecisionResult;
    try {
      result = evaluator.evaluate(input);
    } catch (error) {
      if (!isCreditgateError(error)) throw error;
      // Fail closed: a policy that cannot answer denies, with the failure's own code.
      result = deny([{ code: error.code, message: error.message }]);
    }

    const decisionId = newId("decision", nowMs);
    const respond = (
      outcome: DecisionResult,
      balances: Record<CreditClass, number>,
      holdId?: string,
    ): DecisionResponse => ({
      decision_id: decisionId,
      allow: outcome.allow,
      cost: outcome.cost,
      ...(holdId === undefined ? {} : { hold_id: holdId, hold: outcome.hold }),
      reasons: outcome.reasons,
      obligations: outcome.obligations,
      balances,
      policy_revision: evaluator.revision,
      ...(dryRun ? { dry_run: true } : {}),
    });

    if (dryRun) return respond(result, { ...available });
    const idempotencyKey = key as string;

    const audit = (outcome: DecisionResult, response: DecisionResponse): AuditContext => ({
      decision_id: decisionId,
      principal: {
        kind: principal.kind,
        id: principal.id,
        tenant: principal.tenant,
        issuer: principal.issuer,
      },
      action: action as unknown as JsonValue,
      allow: outcome.allow,
      cost: outcome.cost,
      hold: outcome.hold,
      reasons: outcome.reasons as unknown as JsonValue,
      policy_revision: evaluator.revision,
      bundle_digest: evaluator.digest,
      input_digest: sha256(canonicalize(input as unknown as JsonValue)),
      response: response as unknown as JsonValue,
    });

    if (result.allow) {
      const steps = action.units?.steps ?? 1;
      const drawOrder = result.draw_order;
      const floors = floorsFrom(result);
      const holdOnly = result.hold > 0 && holdCarriesCost.has(action.type);
      const debitAmount = holdOnly ? 0 : result.cost;
      const charged = debitAmount + result.hold;
      const usage = usageIncrements(plan, charged, steps);

      // One ledger effect per decision where possible; a fee plus a hold is two, compensated.
      let parts: Part[] = [];
      let holdId: string | undefined;
      let outcome: OpResult<{ readonly auditSeq: number }> | undefined;
      let debitTransferId: string | undefined;
      if (debitAmount > 0) {
        const provisional = respond(result, subtractParts(available, []));
        const debit = await store.debit({
          tenant: principal.tenant,
          key: idempotencyKey,
          amount: debitAmount,
          drawOrder,
          floors,
          usage,
          audit: audit(result, provisional),
        });
        outcome = debit;
        if (debit.ok) {
          parts = [...debit.value.parts];
          if (debit.code === "ok") debitTransferId = debit.value.transferId;
        }
      }
      if (result.hold > 0 && (outcome === undefined || outcome.ok)) {
        const hold = await store.hold({
          tenant: principal.tenant,
          key: debitAmount > 0 ? `${idempotencyKey}:hold` : idempotencyKey,
          amount: result.hold,
          drawOrder,
          floors,
          ttlMs: this.#options.holdTtlMs,
          ...(debitAmount > 0 ? {} : { usage }),
          audit: audit(result, respond(result, subtractParts(available, parts))),
        });
        if (hold.ok) {
          holdId = hold.value.holdId;
          parts = [...parts, ...hold.value.parts];
        } else if (debitTransferId !== undefined) {
          // The fee went through but the hold cannot: give the fee back rather than charge for nothing.
          await store.reverse({
            tenant: principal.tenant,
            key: `${idempotencyKey}:compensate`,
            transferId: debitTransferId,
            reason: `hold refused: ${hold.code}`,
          });
          parts = [];
        }
        outcome = hold;
      }
      if (outcome === undefined) {
        const recorded = await store.recordDecision({
          tenant: principal.tenant,
          key: idempotencyKey,
          usage,
          audit: audit(result, respond(result, { ...available })),
        });
        outcome = recorded;
      }

      if (outcome.ok && outcome.code === "exists") return this.#replay(outcome.value.auditSeq);
      if (outcome.ok) return respond(result, subtractParts(available, parts), holdId);
      if (outcome.code === "exists_with_different_request") {
        throw new CreditgateError("IDEMPOTENCY_CONFLICT", {
          details: { ledger_code: outcome.code },
        });
      }
      if (outcome.code !== "insufficient_credits") {
        throw new CreditgateError("LEDGER_REFUSED", {
          message: `the ledger refused the decision: ${outcome.code}`,
          details: { ledger_code: outcome.code },
        });
      }
      // The balance moved between evaluation and enforcement: the ledger wins.
      result = deny([
        {
          code: "INSUFFICIENT_CREDITS",
          message: "the balance changed before the debit; not enough credits",
        },
      ]);
    }

    const denied = respond(result, { ...available });
    const recorded = await store.recordDecision({
      tenant: principal.tenant,
      key: idempotencyKey,
      usage: usageIncrements(plan, 0, 0),
      audit: audit(result, denied),
    });
    if (recorded.ok && recorded.code === "exists") return this.#replay(recorded.value.auditSeq);
    if (!recorded.ok) {
      throw new CreditgateError("IDEMPOTENCY_CONFLICT", {
        details: { ledger_code: recorded.code },
      });
    }
    return denied;
  }

  /** A retried key answers with the response recorded by the original decision's audit record. */
  async #replay(auditSeq: number): Promise<DecisionResponse> {
    const [record] = await this.#options.store.auditRecords(auditSeq - 1, 1);
    const context = record?.data.context as { response?: unknown } | null | undefined;
    if (record === undefined || record.seq !== auditSeq || context?.response === undefined) {
      throw new CreditgateError("INTERNAL", {
        message: `audit record ${auditSeq} holds no decision response`,
      });
    }
    return context.response as DecisionResponse;
  }
}
