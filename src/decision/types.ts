/** What the decision flow takes and answers; the HTTP API and the embedded engine share it. */
import type { VerifiedPrincipal } from "../identity/index.js";
import type { Action, CreditClass, Obligations, Reason } from "../policy/types.js";

export interface DecideRequest {
  readonly principal: VerifiedPrincipal;
  readonly action: Action;
  /** Required unless dryRun: a retry with the same key gets the identical response. */
  readonly idempotencyKey?: string;
  readonly dryRun?: boolean;
  /** How long a hold this decision places lives (a task's credential lifetime); default config. */
  readonly holdTtlMs?: number;
}

export interface DecisionResponse {
  readonly decision_id: string;
  readonly allow: boolean;
  readonly cost: number;
  readonly hold_id?: string;
  readonly hold?: number;
  readonly reasons: readonly Reason[];
  readonly obligations: Obligations;
  /** Available credits per class after this decision took effect. */
  readonly balances: Readonly<Record<CreditClass, number>>;
  readonly policy_revision: string;
  readonly dry_run?: boolean;
}
