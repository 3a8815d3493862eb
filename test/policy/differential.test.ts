/**
 * The shipped Wasm bundle must decide exactly like the Rego source under OPA: 1,000 generated
 * inputs go through both, and every result must be identical.
 */
import { rm, writeFile } from "node:fs/promises";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { packageRoot } from "../../src/paths.js";
import { defaultLayout, stagePolicy } from "../../src/policy/build.js";
import { readBundleFile } from "../../src/policy/bundle.js";
import { stableJson } from "../../src/policy/data.js";
import { PolicyEvaluator } from "../../src/policy/evaluator.js";
import { runTool } from "../../src/policy/toolchain.js";
import { validate } from "../../src/schema-registry.js";
import { decisionInputArbitrary, knownNames } from "../helpers/arbitraries.js";
import { committedBundlePath, devVerificationKey } from "../helpers/bundles.js";

const runs = 1000;

describe("Wasm bundle vs opa eval on the source", () => {
  it(`decides ${runs} generated inputs identically`, async () => {
    const seed = Number(process.env.CREDITGATE_SEED ?? Date.now() % 2 ** 31);
    const bundle = await readBundleFile(committedBundlePath, {
      verificationKey: await devVerificationKey(),
    });
    const evaluator = await PolicyEvaluator.create(bundle);
    const inputs = fc.sample(decisionInputArbitrary(knownNames(bundle.data)), {
      numRuns: runs,
      seed,
    });
    for (const input of inputs) expect(validate("decision-input", input)).toEqual([]);

    const stage = await stagePolicy(defaultLayout(packageRoot), { includeTests: false });
    try {
      const casesFile = `${stage.dir}.cases.json`;
      await writeFile(casesFile, JSON.stringify({ cases: inputs }));
      const query =
        "results := [r | some c in input.cases; r := data.creditgate.decision with input as c]";
      const opa = await runTool("opa", [
        "eval",
        "--format",
        "json",
        "-b",
        stage.dir,
        "-i",
        casesFile,
        query,
      ]);
      expect(opa.stderr).toBe("");
      const go = (JSON.parse(opa.stdout) as { result: [{ bindings: { results: unknown[] } }] })
        .result[0].bindings.results;
      expect(go).toHaveLength(runs);

      let decided = 0;
      const allowed = inputs.filter((input, i) => {
        const wasm = evaluator.evaluate(input);
        const same = stableJson(wasm) === stableJson(go[i]);
        if (!same) {
          throw new Error(
            `seed ${seed}, case ${i}: Wasm and OPA differ\ninput: ${JSON.stringify(input)}\nwasm: ${stableJson(wasm)}\nopa:  ${stableJson(go[i])}`,
          );
        }
        decided++;
        return wasm.allow;
      });
      expect(decided).toBe(runs);
      // A generator that only ever produced denies would prove little.
      expect(allowed.length).toBeGreaterThan(runs / 20);
    } finally {
      await stage.cleanup();
      await rm(`${stage.dir}.cases.json`, { force: true });
    }
  });
});
