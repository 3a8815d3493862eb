/**
 * `creditgate policy test`: the Rego unit tests with a coverage threshold, then the golden
 * decision cases through a freshly compiled Wasm bundle.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreditgateError } from "../errors.js";
import { type BuildLayout, buildBundle, stagePolicy } from "./build.js";
import { readBundleFile } from "./bundle.js";
import { PolicyEvaluator } from "./evaluator.js";
import { type GoldenOutcome, loadGoldenCases, runGoldenCases } from "./golden.js";
import { runTool } from "./toolchain.js";

export interface PolicyTestReport {
  readonly testsPassed: number;
  readonly coveragePercent: number;
  readonly golden: readonly GoldenOutcome[];
}

interface OpaTestResult {
  readonly package: string;
  readonly name: string;
  readonly fail?: boolean;
  readonly error?: unknown;
  readonly skip?: boolean;
}

export async function runOpaTests(
  layout: BuildLayout,
): Promise<{ passed: number; coveragePercent: number }> {
  const stage = await stagePolicy(layout, { includeTests: true });
  try {
    const tests = await runTool("opa", ["test", "--format", "json", "."], { cwd: stage.dir });
    let results: OpaTestResult[];
    try {
      results = JSON.parse(tests.stdout) as OpaTestResult[];
    } catch {
      throw new CreditgateError("POLICY_TEST_FAILED", {
        message: `opa test failed:\n${tests.stdout}${tests.stderr}`,
      });
    }
    const failed = results.filter((r) => r.fail === true || r.error !== undefined);
    if (tests.exitCode !== 0 || failed.length > 0 || results.length === 0) {
      const names = failed.map((r) => `${r.package}.${r.name}`);
      throw new CreditgateError("POLICY_TEST_FAILED", {
        message:
          results.length === 0 ? "no Rego tests found" : `Rego tests failed: ${names.join(", ")}`,
        details: { failed: names },
      });
    }
    const coverage = await runTool("opa", ["test", "--coverage", "--format", "json", "."], {
      cwd: stage.dir,
    });
    const report = JSON.parse(coverage.stdout) as { coverage?: number };
    return { passed: results.length, coveragePercent: report.coverage ?? 0 };
  } finally {
    await stage.cleanup();
  }
}

export async function runPolicyTests(options: {
  readonly layout: BuildLayout;
  readonly fixturesDir: string;
  readonly coverageThresholdPercent: number;
}): Promise<PolicyTestReport> {
  const { passed, coveragePercent } = await runOpaTests(options.layout);
  if (coveragePercent < options.coverageThresholdPercent) {
    throw new CreditgateError("POLICY_COVERAGE_LOW", {
      message: `Rego coverage is ${coveragePercent.toFixed(1)}%, threshold ${options.coverageThresholdPercent}%`,
      details: { coveragePercent, thresholdPercent: options.coverageThresholdPercent },
    });
  }
  const outDir = await mkdtemp(join(tmpdir(), "creditgate-test-bundle-"));
  try {
    const outFile = join(outDir, "bundle.tar.gz");
    await buildBundle({ layout: options.layout, outFile, skipLint: true });
    const evaluator = await PolicyEvaluator.create(
      await readBundleFile(outFile, { allowUnsigned: true }),
    );
    const golden = runGoldenCases(evaluator, await loadGoldenCases(options.fixturesDir));
    const failing = golden.filter((g) => g.problems.length > 0);
    if (failing.length > 0) {
      throw new CreditgateError("POLICY_TEST_FAILED", {
        message: `golden cases failed:\n${failing.map((g) => `${g.file}: ${g.problems.join("; ")}`).join("\n")}`,
        details: { failing: failing.map((g) => g.file) },
      });
    }
    return { testsPassed: passed, coveragePercent, golden };
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}
