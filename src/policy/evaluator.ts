/**
 * Evaluates the decision entrypoint of a loaded bundle's Wasm module. One evaluator owns one
 * Wasm instance with a bounded memory; evaluation is synchronous and never reads the clock,
 * so the same input and bundle always give the same result.
 */
import { type LoadedPolicy, loadPolicy } from "@open-policy-agent/opa-wasm";
import { CreditgateError } from "../errors.js";
import { limits } from "../limits.js";
import { formatViolations, validate } from "../schema-registry.js";
import type { LoadedBundle } from "./bundle.js";
import { decisionEntrypoint } from "./manifest.js";
import type { DecisionInput, DecisionResult } from "./types.js";

export interface EvaluatorOptions {
  readonly memoryPagesInitial?: number;
  readonly memoryPagesMax?: number;
  /**
   * Validate every input against schemas/decision-input. The decision flow builds inputs
   * itself and may skip this; anything taking input from outside (CLI, tests) keeps it on.
   */
  readonly validateInput?: boolean;
}

/** opa-wasm throws strings and plain values; turn anything thrown into a message. */
function describeThrown(thrown: unknown): string {
  if (thrown instanceof Error) return thrown.message;
  if (typeof thrown === "string") return thrown;
  return JSON.stringify(thrown) ?? String(thrown);
}

export class PolicyEvaluator {
  readonly revision: string;
  readonly digest: string;
  /** The bundle's data document (prices, plans, limits), as the policy sees it. */
  readonly data: Readonly<Record<string, unknown>>;
  readonly #policy: LoadedPolicy;
  readonly #validateInput: boolean;

  private constructor(bundle: LoadedBundle, policy: LoadedPolicy, validateInput: boolean) {
    this.revision = bundle.revision;
    this.digest = bundle.digest;
    this.data = bundle.data;
    this.#policy = policy;
    this.#validateInput = validateInput;
  }

  static async create(
    bundle: LoadedBundle,
    options: EvaluatorOptions = {},
  ): Promise<PolicyEvaluator> {
    const initial = options.memoryPagesInitial ?? limits.policyMemoryPagesInitial;
    const maximum = options.memoryPagesMax ?? limits.policyMemoryPagesMax;
    let policy: LoadedPolicy;
    try {
      // The Wasm bytes are copied so the module never aliases the bundle's buffer.
      policy = await loadPolicy(new Uint8Array(bundle.wasm), { initial, maximum });
    } catch (thrown) {
      throw new CreditgateError("BUNDLE_INCOMPATIBLE", {
        message: `cannot instantiate policy.wasm: ${describeThrown(thrown)}`,
        cause: thrown,
      });
    }
    const entrypoints = policy.entrypoints as Record<string, number>;
    if (!Object.hasOwn(entrypoints, decisionEntrypoint)) {
      throw new CreditgateError("BUNDLE_INCOMPATIBLE", {
        message: `policy.wasm has no entrypoint "${decisionEntrypoint}"`,
      });
    }
    try {
      policy.setData(bundle.data);
    } catch (thrown) {
      throw new CreditgateError("BUNDLE_INCOMPATIBLE", {
        message: `cannot load data.json into policy memory: ${describeThrown(thrown)}`,
        cause: thrown,
      });
    }
    return new PolicyEvaluator(bundle, policy, options.validateInput ?? true);
  }

  evaluate(input: DecisionInput): DecisionResult {
    if (this.#validateInput) {
      const violations = validate("decision-input", input);
      if (violations.length > 0) {
        throw new CreditgateError("POLICY_INPUT_INVALID", {
          message: `decision input is invalid: ${formatViolations(violations)}`,
          details: { violations },
        });
      }
    }
    let resultSet: unknown;
    try {
      resultSet = this.#policy.evaluate(input, decisionEntrypoint);
    } catch (thrown) {
      throw new CreditgateError("POLICY_EVAL_FAILED", {
        message: `policy evaluation failed: ${describeThrown(thrown)}`,
        details: { revision: this.revision },
        cause: thrown,
      });
    }
    const first = Array.isArray(resultSet)
      ? (resultSet[0] as { result?: unknown } | undefined)
      : undefined;
    if (first === undefined || first.result === undefined) {
      throw new CreditgateError("POLICY_UNDEFINED", {
        message: `${decisionEntrypoint} is undefined for this input`,
        details: { revision: this.revision },
      });
    }
    const violations = validate("decision-result", first.result);
    if (violations.length > 0) {
      throw new CreditgateError("POLICY_RESULT_INVALID", {
        message: `policy result is invalid: ${formatViolations(violations)}`,
        details: { revision: this.revision, violations },
      });
    }
    return first.result as DecisionResult;
  }
}
