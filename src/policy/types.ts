/** The policy contract (schemas/decision-input and decision-result), as TypeScript types. */

import type { CreditClass } from "../ledger/types.js";

export { type CreditClass, creditClasses } from "../ledger/types.js";

export type PrincipalKind = "user" | "workload" | "task";

export interface Principal {
  readonly kind: PrincipalKind;
  readonly id: string;
  readonly tenant: string;
  readonly plan: string;
  readonly roles: readonly string[];
  readonly scopes: readonly string[];
  readonly tenant_status?: "active" | "suspended";
  /** A task principal's hold as the engine read it; absent means active. */
  readonly task_status?: TaskStatus;
}

/** `active`, or how a task ended: its hold was committed, released, expired, or is missing. */
export type TaskStatus = "active" | "committed" | "released" | "expired" | "missing";

export interface ActionUnits {
  readonly input_tokens?: number;
  readonly max_output_tokens?: number;
  readonly steps?: number;
  readonly budget?: number;
}

export interface Action {
  readonly type: string;
  readonly model?: string;
  readonly tool?: string;
  readonly units?: ActionUnits;
  readonly workflow_id?: string;
  readonly task_id?: string;
}

export type Balances = Readonly<Record<CreditClass, number>>;

export interface Usage {
  readonly calls_per_minute: number;
  readonly credits_per_hour: number;
  readonly workflow_steps: number;
}

export interface DecisionInput {
  readonly principal: Principal;
  readonly action: Action;
  readonly balances: Balances;
  readonly usage: Usage;
  /** RFC 3339; the only notion of time the policy has. */
  readonly now: string;
}

export interface Reason {
  readonly code: string;
  readonly message: string;
}

export interface Obligations {
  readonly max_output_tokens?: number;
  readonly hard_stop?: boolean;
  readonly overdraft?: Readonly<Partial<Record<CreditClass, number>>>;
  readonly retry_after_seconds?: number;
}

/** A velocity window an action counts against. */
export type VelocityWindow = "calls_per_minute" | "credits_per_hour" | "workflow_steps";

export interface VelocityWindowLimit {
  /** The most the window may reach with this decision (calls, credits or steps). */
  readonly max: number;
  /** How long to wait when this window is what stopped a decision. */
  readonly retry_after_seconds: number;
}

export type VelocityWindows = Readonly<Partial<Record<VelocityWindow, VelocityWindowLimit>>>;

export interface DecisionResult {
  readonly allow: boolean;
  readonly cost: number;
  readonly hold: number;
  readonly draw_order: readonly CreditClass[];
  readonly obligations: Obligations;
  readonly reasons: readonly Reason[];
  /**
   * Present on allows (the schema requires it): the hold carries the whole cost, settled at
   * commit, and nothing is debited now (token-priced actions); false when the cost is a fee.
   */
  readonly hold_carries_cost?: boolean;
  /** Present on allows: the windows the action counts against, with the plan's maxima. */
  readonly velocity?: VelocityWindows;
}
