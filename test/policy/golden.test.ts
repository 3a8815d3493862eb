/** Every golden decision case, through the committed (shipped) bundle. */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { packageRoot } from "../../src/paths.js";
import { readBundleFile } from "../../src/policy/bundle.js";
import { PolicyEvaluator } from "../../src/policy/evaluator.js";
import { loadGoldenCases, mismatches } from "../../src/policy/golden.js";
import { committedBundlePath, devVerificationKey } from "../helpers/bundles.js";

const cases = await loadGoldenCases(join(packageRoot, "test", "fixtures", "decisions"));
const evaluator = await PolicyEvaluator.create(
  await readBundleFile(committedBundlePath, { verificationKey: await devVerificationKey() }),
);

describe("golden decision cases", () => {
  it("has cases covering allows and denies", () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
    expect(cases.some((c) => c.want.allow)).toBe(true);
    expect(cases.some((c) => !c.want.allow)).toBe(true);
  });

  it.each(cases.map((c) => [c.file, c] as const))("%s", (_file, c) => {
    expect(mismatches(evaluator.evaluate(c.input), c.want), c.description).toEqual([]);
  });
});
