/**
 * The flow of one decision, in one place: read balances, usage and any earlier use of the
 * idempotency key → evaluate the policy with `now` from the clock → enforce in the ledger (debit,
 * or hold when the policy asks for one, in the policy's draw order, with the usage increments) →
 * the audit record is written by the same ledger transaction → respond. Denies are answers, not
 * errors; every failure fails closed.
 */
import { createHash } from "node:crypto";
import type { JsonValue } from "../audit/canonical.js";
import { canonicalize } from "../audit/canonical.js";
import type { Pseudonyms } from "../audit/pseudonym.js";
import { type Clock, systemClock, toRfc3339 } from "../clock.js";
import { CreditgateError, isCreditgateError } from "../errors.js";
import { newId } from "../ids.js";
import type { OpResult } from "../ledger/codes.js";
import type { LedgerStore } from "../ledger/port.js";
import {
  type AuditContext,
  type CreditClass,
  type Floors,
  type RecordOutcome,
  zeroAmounts,
} from "../ledger/types.js";
import type { PolicyEvaluator } from "../policy/evaluator.js";
import type { DecisionInput, DecisionResult, Reason, TaskStatus } from "../policy/types.js";
import { ownerKey, principalKey } from "./owner.js";
import {
  type DecisionReplay,
  finalize,
  replayDecision,
  replayOf,
  requestDigest,
} from "./replay.js";
import { endedByLedger, heldToTaskEnded, taskEndedDeny, taskStatusOf } from "./task-ended.js";
import type { DecideRequest, DecisionResponse } from "./types.js";
import { type UsagePlan, usageIncrements, usageInput, usageKeys, usagePlan } from "./usage.js";
import { tightestWindow, type VelocityLimits, velocityDeny, velocityLimits } from "./velocity.js";

export interface PolicySource {
  /** Read once per decision, so a hot reload never splits one decision across two bundles. */
  readonly current: PolicyEvaluator;
}

export interface DecisionEngineOptions {
  readonly policy: PolicySource;
  readonly store: LedgerStore;
  readonly clock?: Clock;
  readonly holdTtlMs: number;
  /**
   * Keys the principal and token ids kept outside the audit trail (usage counter scopes, the
   * requester digest of an idempotency record), so no table holds them raw.
   */
  readonly pseudonyms: Pseudonyms;
  /**
   * Why decisions of a tenant are refused before anything is read (e.g. its ledger disagrees with
   * the audit trail), or null; the error is thrown as the decision's answer.
   */
  readonly refuse?: (tenant: string) => CreditgateError | null;
  /** Called once per answered decision, for metrics; never throws into the flow. */
  readonly observe?: (response: DecisionResponse, elapsedMs: number) => void;
}

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

function deny(reasons: readonly Reason[]): DecisionResult {
  return { allow: false, cost: 0, hold: 0, draw_order: [], obligations: {}, reasons };
}

const balanceMoved: Reason = {
  code: "INSUFFICIENT_CREDITS",
  message: "the balance changed before the debit; not enough credits",
};

/** Everything one enforcing decision needs after evaluation. */
interface Enforcement {
  readonly request: DecideRequest;
  readonly key: string;
  readonly plan: UsagePlan;
  readonly input: DecisionInput;
  readonly evaluator: PolicyEvaluator;
  readonly decisionId: string;
  readonly limits: VelocityLimits;
  /** The hold a task principal spends from; undefined for users and workloads. */
  readonly taskHoldId: string | undefined;
  /** Computed once, outside the ledger's batch: the input's digest and the requester's. */
  readonly inputDigest: string;
  readonly requestDigest: string;
}

function taskNesting(taskId: string): Reason {
  return { code: "TASK_NESTING_DENIED", message: `task ${taskId} cannot start a task` };
}

export class DecisionEngine {
  readonly #options: DecisionEngineOptions;
  readonly #store: LedgerStore;
  readonly #clock: Clock;

  constructor(options: DecisionEngineOptions) {
    this.#options = options;
    this.#store = options.store;
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * Who may settle what a principal's decision held: `owner` as holds store it now, and
   * `formerOwner` as holds placed before owners were pseudonyms store it.
   */
  settler(principal: Parameters<typeof principalKey>[0]): { owner: string; formerOwner: string } {
    return { owner: this.ownerKey(principal), formerOwner: principalKey(principal) };
  }

  ownerKey(principal: Parameters<typeof principalKey>[0]): string {
    return ownerKey(this.#options.pseudonyms, principal);
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

    const refused = this.#options.refuse?.(principal.tenant) ?? null;
    if (refused !== null) throw refused;
    const evaluator = this.#options.policy.current;
    const nowMs = this.#clock.nowMs();
    const pseudonyms = this.#options.pseudonyms;
    const principalId = pseudonyms.of(principal.id);
    const plan = usagePlan(
      {
        tenant: principal.tenant,
        principalId,
        keyId: principal.jti === undefined ? principalId : pseudonyms.of(principal.jti),
      },
      action,
    );
    const snapshot = await this.#store.snapshot(
      principal.tenant,
      usageKeys(plan),
      dryRun ? undefined : key,
    );
    if (snapshot.prior !== undefined && snapshot.prior !== null) {
      return replayDecision(pseudonyms, { principal, action }, snapshot.prior);
    }

    // A task sees, and can spend, only what is left of its own hold; the policy is told whether
    // the hold is still active, or how the task ended.
    const taskHoldId = principal.kind === "task" ? principal.task?.holdId : undefined;
    let balances = snapshot.balances.available;
    let taskStatus: TaskStatus | undefined;
    if (principal.kind === "task") {
      const hold =
        taskHoldId === undefined
          ? null
          : await this.#store.holdStatus(principal.tenant, taskHoldId);
      taskStatus = taskStatusOf(hold);
      balances = hold?.state === "active" ? hold.remainingByClass : zeroAmounts();
    }
    const input: DecisionInput = {
      principal: {
        kind: principal.kind,
        id: principal.id,
        tenant: principal.tenant,
        plan: principal.plan,
        roles: principal.roles,
        scopes: principal.scopes,
        ...(taskStatus === undefined ? {} : { task_status: taskStatus }),
        // Read from the store with the balances, in the same snapshot, on every decision (never
        // cached): a suspension or reinstatement committed by any instance, or by the CLI, is
        // what the next decision on every instance sees, with no notification needed.
        tenant_status: snapshot.tenantStatus,
      },
      action,
      balances,
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
    if (snapshot.tenantStatus === "suspended" && result.allow) {
      // The policy decides, but a suspended tenant spends nothing whatever a bundle says.
      result = {
        ...deny([{ code: "TENANT_SUSPENDED", message: `tenant ${principal.tenant} is suspended` }]),
        obligations: { hard_stop: true },
      };
    } else if (taskStatus !== undefined && taskStatus !== "active") {
      result = heldToTaskEnded(result, principal.id, taskStatus);
    } else if (principal.kind === "task" && action.type === "agent.task" && result.allow) {
      // A task spends only its own hold and has none to place: whatever a policy says, it cannot
      // start a task (the starter policy denies it itself, with this reason).
      result = deny([taskNesting(principal.id)]);
    }
    const decisionId = newId("decision", nowMs);
    if (dryRun) {
      return {
        ...template(result, input, evaluator, decisionId, taskHoldId === undefined),
        dry_run: true,
      };
    }
    const enforcement: Enforcement = {
      request,
      key: key as string,
      plan,
      input,
      evaluator,
      decisionId,
      limits: velocityLimits(result),
      taskHoldId,
      inputDigest: sha256(canonicalize(input as unknown as JsonValue)),
      requestDigest: requestDigest(pseudonyms, principal, action),
    };
    if (principal.kind === "task") return this.#enforceTask(result, enforcement);
    return this.#enforce(result, enforcement);
  }

  /** A task's decision draws its cost from the task's hold, never from the tenant's balances. */
  async #enforceTask(result: DecisionResult, e: Enforcement): Promise<DecisionResponse> {
    if (!result.allow) return this.#recordOnly(result, e, 0, 0);
    const steps = e.request.action.units?.steps ?? 1;
    // An ended task (free actions included) was denied above, by the policy or the engine.
    const taskId = e.request.principal.id;
    if (e.taskHoldId === undefined)
      return this.#recordOnly(taskEndedDeny(taskId, "missing"), e, 0, 0);
    if (result.cost === 0) return this.#recordOnly(result, e, 0, steps);
    const shape = template(result, e.input, e.evaluator, e.decisionId, false);
    const drawn = await this.#store.drawHold({
      tenant: e.request.principal.tenant,
      key: e.key,
      holdId: e.taskHoldId,
      amount: result.cost,
      usage: usageIncrements(e.plan, result.cost, steps, e.limits),
      record: this.#recorder(shape, result, e),
    });
    if (drawn.ok && drawn.code === "ok") return sent(drawn.value);
    if (drawn.ok) return this.#replay(e);
    switch (drawn.code) {
      case "exists_with_different_request":
        return this.#replay(e);
      case "usage_limit_exceeded":
        return this.#velocityDenied(e, result.cost);
      case "hold_insufficient":
        return this.#recordOnly(
          deny([
            {
              code: "TASK_BUDGET_EXCEEDED",
              message: `the task's budget cannot pay ${result.cost}`,
            },
          ]),
          e,
          0,
          0,
        );
      case "hold_not_found":
      case "hold_expired":
      case "hold_released":
      case "hold_already_committed":
        // The hold ended between the decision's read and its draw.
        return this.#recordOnly(
          taskEndedDeny(taskId, endedByLedger(drawn.code) ?? "missing"),
          e,
          0,
          0,
        );
      default:
        throw new CreditgateError("LEDGER_REFUSED", {
          message: `the ledger refused the task's decision: ${drawn.code}`,
          details: { ledger_code: drawn.code },
        });
    }
  }

  /** Concurrent decisions reached a velocity limit the policy's snapshot had not yet shown. */
  #velocityDenied(e: Enforcement, credits: number): Promise<DecisionResponse> {
    const action = e.request.action;
    const window = tightestWindow(
      e.limits,
      e.input.usage,
      credits,
      action.units?.steps ?? 1,
      action.workflow_id !== undefined,
    );
    const { reasons, obligations } = velocityDeny(e.limits, window);
    return this.#recordOnly({ ...deny(reasons), obligations }, e, 0, 0);
  }

  async #enforce(result: DecisionResult, e: Enforcement): Promise<DecisionResponse> {
    if (!result.allow) return this.#recordOnly(result, e, 0, 0);
    const { request, key, plan } = e;
    const tenant = request.principal.tenant;
    const steps = request.action.units?.steps ?? 1;
    // The policy says whether the hold carries the whole cost (settled at commit) or the cost
    // is a fee debited now, next to any hold.
    const holdOnly = result.hold > 0 && result.hold_carries_cost === true;
    const debitAmount = holdOnly ? 0 : result.cost;
    const usage = usageIncrements(plan, debitAmount + result.hold, steps, e.limits);
    if (debitAmount === 0 && result.hold === 0) return this.#recordOnly(result, e, 0, steps);

    const shape = template(result, e.input, e.evaluator, e.decisionId, true);
    const record = this.#recorder(shape, result, e);
    const drawOrder = result.draw_order;
    const floors = floorsFrom(result);
    if (result.hold === 0) {
      const debit = await this.#store.debit({
        tenant,
        key,
        amount: debitAmount,
        drawOrder,
        floors,
        usage,
        record,
      });
      if (!debit.ok) return this.#refused(debit, result, e);
      if (debit.code === "exists") return this.#replay(e);
      return sent(debit.value);
    }
    // A hold, with the fee (if any) debited in the same ledger operation: both or neither.
    const hold = await this.#store.hold({
      tenant,
      key,
      amount: result.hold,
      ...(debitAmount > 0 ? { fee: debitAmount } : {}),
      drawOrder,
      floors,
      ttlMs: request.holdTtlMs ?? this.#options.holdTtlMs,
      // Only the principal that placed the hold settles it (a task's: its parent).
      owner: this.ownerKey(request.principal),
      usage,
      record,
    });
    if (!hold.ok) return this.#refused(hold, result, e);
    if (hold.code === "exists") return this.#replay(e);
    return sent(hold.value);
  }

  /** A deny, or an allow without a ledger effect: one audit record carrying the response. */
  async #recordOnly(
    result: DecisionResult,
    e: Enforcement,
    credits: number,
    steps: number,
  ): Promise<DecisionResponse> {
    const shape = template(result, e.input, e.evaluator, e.decisionId, e.taskHoldId === undefined);
    const recorded = await this.#store.recordDecision({
      tenant: e.request.principal.tenant,
      key: e.key,
      usage: usageIncrements(e.plan, credits, steps),
      record: this.#recorder(shape, result, e),
    });
    if (recorded.ok && recorded.code === "ok") return sent(recorded.value);
    return this.#replay(e);
  }

  /** The ledger refused what the policy allowed: the balance moved (a deny), or a bad request. */
  #refused(
    outcome: Extract<OpResult<unknown>, { ok: false }>,
    result: DecisionResult,
    e: Enforcement,
  ): Promise<DecisionResponse> {
    if (outcome.code === "exists_with_different_request") return this.#replay(e);
    if (outcome.code === "usage_limit_exceeded")
      return this.#velocityDenied(e, result.cost + result.hold);
    if (outcome.code !== "insufficient_credits") {
      throw new CreditgateError("LEDGER_REFUSED", {
        message: `the ledger refused the decision: ${outcome.code}`,
        details: { ledger_code: outcome.code, policy_cost: result.cost },
      });
    }
    return this.#recordOnly(deny([balanceMoved]), e, 0, 0);
  }

  /** Someone else enforced this key first (a concurrent retry): answer with what they recorded. */
  async #replay(e: Enforcement): Promise<DecisionResponse> {
    const tenant = e.request.principal.tenant;
    const prior = (await this.#store.idempotencyRecords(tenant, [e.key])).get(e.key);
    if (prior === undefined) throw new CreditgateError("IDEMPOTENCY_IN_PROGRESS");
    return replayDecision(
      this.#options.pseudonyms,
      { principal: e.request.principal, action: e.request.action },
      prior,
    );
  }

  /**
   * Run by the ledger inside the operation, once it knows what it took: the response as it will
   * be sent goes into the audit record and, with the requester digest, the idempotency record.
   */
  #recorder(shape: DecisionResponse, result: DecisionResult, e: Enforcement): RecordOutcome {
    return (outcome) => {
      const response = finalize(shape, outcome);
      const replay: DecisionReplay = { request_digest: e.requestDigest, response };
      return {
        audit: auditContext(response, result, e),
        replay: replay as unknown as JsonValue,
      };
    };
  }
}

/** The response a fresh decision's ledger value recorded: what is sent is what was recorded. */
function sent(value: unknown): DecisionResponse {
  const replay = replayOf(value);
  if (replay === undefined) throw new TypeError("a decision's ledger value carries its replay");
  return replay.response;
}

/**
 * The response before the ledger: balances as evaluated, no hold id yet. `holds` is false for
 * task principals, whose decisions draw from the task's hold instead of placing their own.
 */
function template(
  result: DecisionResult,
  input: DecisionInput,
  evaluator: PolicyEvaluator,
  decisionId: string,
  holds: boolean,
): DecisionResponse {
  return {
    decision_id: decisionId,
    allow: result.allow,
    cost: result.cost,
    ...(holds && result.allow && result.hold > 0 ? { hold: result.hold } : {}),
    reasons: result.reasons,
    obligations: result.obligations,
    balances: { ...input.balances },
    policy_revision: evaluator.revision,
  };
}

function auditContext(
  response: DecisionResponse,
  result: DecisionResult,
  e: Enforcement,
): AuditContext {
  const { principal, action } = e.request;
  const context = {
    decision_id: e.decisionId,
    principal: {
      kind: principal.kind,
      id: principal.id,
      tenant: principal.tenant,
      issuer: principal.issuer,
      ...(principal.jti === undefined ? {} : { jti: principal.jti }),
    },
    action,
    allow: result.allow,
    cost: result.cost,
    hold: result.hold,
    reasons: result.reasons,
    policy_revision: e.evaluator.revision,
    bundle_digest: e.evaluator.digest,
    input_digest: e.inputDigest,
    response,
  };
  return context as unknown as AuditContext;
}
