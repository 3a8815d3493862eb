/** The Rego unit tests pass under OPA with at least 90% coverage. */
import { describe, expect, it } from "vitest";
import { packageRoot } from "../../src/paths.js";
import { defaultLayout } from "../../src/policy/build.js";
import { runOpaTests } from "../../src/policy/policy-test.js";

describe("opa test", () => {
  it("passes every Rego test with coverage of at least 90%", async () => {
    const { passed, coveragePercent } = await runOpaTests(defaultLayout(packageRoot));
    expect(passed).toBeGreaterThan(20);
    expect(coveragePercent).toBeGreaterThanOrEqual(90);
  });
});
