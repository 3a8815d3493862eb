import { describe, expect, it } from "vitest";
import { CreditgateError } from "../../src/errors.js";
import { readBundleBytes, readBundleFile } from "../../src/policy/bundle.js";
import { PolicyEvaluator } from "../../src/policy/evaluator.js";
import type { DecisionInput } from "../../src/policy/types.js";
import { buildInlineBundle, committedBundlePath, devVerificationKey } from "../helpers/bundles.js";
import { baseInput } from "../helpers/inputs.js";

async function evaluatorFor(rego: string): Promise<PolicyEvaluator> {
  return PolicyEvaluator.create(
    await readBundleBytes(await buildInlineBundle(rego), { allowUnsigned: true }),
  );
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CreditgateError);
    return (error as CreditgateError).code;
  }
  throw new Error("expected an error");
}

describe("evaluating the decision entrypoint", () => {
  it("returns a schema-valid decision from the committed bundle", async () => {
    const evaluator = await PolicyEvaluator.create(
      await readBundleFile(committedBundlePath, { verificationKey: await devVerificationKey() }),
    );
    const result = evaluator.evaluate(baseInput());
    expect(result.allow).toBe(true);
    expect(Number.isInteger(result.cost)).toBe(true);
    expect(result.reasons.length).toBeGreaterThan(0);
  });

  it("refuses input that breaks the contract, naming the path", async () => {
    const evaluator = await PolicyEvaluator.create(
      await readBundleFile(committedBundlePath, { verificationKey: await devVerificationKey() }),
    );
    const bad = {
      ...baseInput(),
      balances: { trial: 0, paid: 1.5, promo: 0, admin: 0 },
    } as DecisionInput;
    try {
      evaluator.evaluate(bad);
      expect.unreachable();
    } catch (error) {
      expect((error as CreditgateError).code).toBe("POLICY_INPUT_INVALID");
      expect((error as CreditgateError).message).toContain("/balances/paid");
    }
  });

  it("maps a result outside the contract to POLICY_RESULT_INVALID", async () => {
    const evaluator = await evaluatorFor('package creditgate\n\ndecision := {"allow": "yes"}\n');
    expect(codeOf(() => evaluator.evaluate(baseInput()))).toBe("POLICY_RESULT_INVALID");
  });

  it("maps an undefined entrypoint to POLICY_UNDEFINED", async () => {
    const evaluator = await evaluatorFor(
      "package creditgate\n\ndecision := 1 if input.never == true\n",
    );
    expect(codeOf(() => evaluator.evaluate(baseInput()))).toBe("POLICY_UNDEFINED");
  });

  it("maps a runtime error thrown by the Wasm module (a string) to POLICY_EVAL_FAILED", async () => {
    const evaluator = await evaluatorFor(
      'package creditgate\n\ndecision = 1 if input.now\n\ndecision = 2 if input.now != ""\n',
    );
    const error = (() => {
      try {
        evaluator.evaluate(baseInput());
      } catch (e) {
        return e as CreditgateError;
      }
      return undefined;
    })();
    expect(error?.code).toBe("POLICY_EVAL_FAILED");
    expect(error?.message).toMatch(/conflict|multiple/i);
  });

  it("fails closed when an input needs more memory than the policy may grow to", async () => {
    const bundle = await readBundleFile(committedBundlePath, {
      verificationKey: await devVerificationKey(),
    });
    const evaluator = await PolicyEvaluator.create(bundle, {
      memoryPagesMax: 16,
      validateInput: false,
    });
    const huge = baseInput({ action: { type: "prompt.submit", workflow_id: "w".repeat(4 << 20) } });
    expect(codeOf(() => evaluator.evaluate(huge))).toBe("POLICY_EVAL_FAILED");
    // The instance stays usable after the failure.
    expect(evaluator.evaluate(baseInput()).allow).toBe(true);
  });
});
