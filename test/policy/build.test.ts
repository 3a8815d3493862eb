import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreditgateError } from "../../src/errors.js";
import { buildBundle } from "../../src/policy/build.js";
import { readBundleFile } from "../../src/policy/bundle.js";
import { type DataViolation, loadPolicyData } from "../../src/policy/data.js";
import { promoteBundle } from "../../src/policy/promote.js";
import { devSigningKeyPath, devVerificationKey } from "../helpers/bundles.js";
import { git, policySandbox } from "../helpers/policy-sandbox.js";

const signing = { privateKeyPath: devSigningKeyPath, algorithm: "ES256" };
const sandbox = policySandbox;

async function failure(promise: Promise<unknown>): Promise<CreditgateError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CreditgateError);
  return error as CreditgateError;
}

const roots: string[] = [];
afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

describe("policy data validation", () => {
  let box: Awaited<ReturnType<typeof sandbox>>;
  beforeAll(async () => {
    box = await sandbox();
    roots.push(box.root);
  });

  it("collects every violation with file, JSON path, line and message", async () => {
    const prices = join(box.layout.dataDir, "prices.yaml");
    const original = await readFile(prices, "utf8");
    await writeFile(prices, original.replace(/input_per_1k: \d+/, "input_per_1k: 2.5"));
    await writeFile(join(box.layout.dataDir, "plans.yaml"), "pro: [not, a, plan]\n");
    await writeFile(join(box.layout.dataDir, "nonsense.yaml"), "a: 1\n");
    const error = await failure(loadPolicyData(box.layout.dataDir));
    expect(error.code).toBe("POLICY_DATA_INVALID");
    const violations = error.details.violations as DataViolation[];
    const float = violations.find((v) => v.file.endsWith("prices.yaml"));
    expect(float).toMatchObject({
      path: expect.stringMatching(/input_per_1k$/),
      message: "must be integer",
    });
    expect(float?.line).toBeGreaterThan(1);
    expect(violations.some((v) => v.file.endsWith("plans.yaml") && v.path.startsWith("/pro"))).toBe(
      true,
    );
    expect(
      violations.some((v) => v.file.endsWith("nonsense.yaml") && v.message.includes("no schema")),
    ).toBe(true);
    await writeFile(prices, original);
  });

  it("reports YAML syntax errors and duplicate keys with their line", async () => {
    const dir = await mkdtemp(join(tmpdir(), "creditgate-data-"));
    roots.push(dir);
    await writeFile(
      join(dir, "tools.yaml"),
      "calculator:\n  risk: low\ncalculator:\n  risk: high\n",
    );
    const error = await failure(loadPolicyData(dir));
    const [violation] = error.details.violations as DataViolation[];
    expect(violation?.line).toBe(3);
    expect(violation?.message).toMatch(/unique|duplicate/i);
  });
});

describe("policy build", () => {
  let box: Awaited<ReturnType<typeof sandbox>>;
  beforeAll(async () => {
    box = await sandbox();
    roots.push(box.root);
  });

  it("builds a signed bundle stamped with the source commit into build/; once promoted and committed, --check accepts it", async () => {
    const report = await buildBundle({ layout: box.layout, signing });
    const { stdout: head } = await git("git", ["rev-parse", "HEAD"], { cwd: box.root });
    expect(report.revision).toBe(head.trim());
    expect(report.bundleFile).toBe(box.layout.buildFile);
    expect(report.steps).toEqual(["data", "check", "format", "lint", "compile"]);
    const verificationKey = await devVerificationKey();
    const bundle = await readBundleFile(box.layout.buildFile, { verificationKey });
    expect(bundle.revision).toBe(head.trim());
    // A build is not a deploy: the served bundle does not exist until promoted.
    await expect(stat(box.layout.bundleFile)).rejects.toThrow();
    const promoted = await promoteBundle({
      from: box.layout.buildFile,
      to: box.layout.bundleFile,
      verificationKey,
    });
    expect(promoted.revision).toBe(head.trim());
    await box.commit("bundle");
    // Signatures are randomised (ECDSA), so the check compares contents, not archive bytes.
    const check = await buildBundle({ layout: box.layout, signing, check: true });
    expect(check.steps).toContain("compare");
  });

  it("--check fails once a price changes without a rebuild", async () => {
    const prices = join(box.layout.dataDir, "prices.yaml");
    const original = await readFile(prices, "utf8");
    await writeFile(
      prices,
      original.replace(/input_per_1k: (\d+)/, (_m, n: string) => `input_per_1k: ${Number(n) + 1}`),
    );
    const error = await failure(buildBundle({ layout: box.layout, signing, check: true }));
    expect(error.code).toBe("BUNDLE_OUT_OF_DATE");
    expect(error.details.differences).toEqual(expect.arrayContaining(["data.json", ".manifest"]));
    await writeFile(prices, original);
  });

  it("stops at the first failing step with its own code", async () => {
    const extra = join(box.layout.policiesDir, "extra.rego");
    await writeFile(extra, "package creditgate\n\nbroken := undefined_thing\n");
    expect((await failure(buildBundle({ layout: box.layout, signing, check: true }))).code).toBe(
      "POLICY_CHECK_FAILED",
    );
    await writeFile(extra, "package creditgate\n\nspaced   :=    1\n");
    expect((await failure(buildBundle({ layout: box.layout, signing, check: true }))).code).toBe(
      "POLICY_FORMAT_FAILED",
    );
    await writeFile(extra, "package creditgate\n\ncamelCaseRule := 1\n");
    expect((await failure(buildBundle({ layout: box.layout, signing, check: true }))).code).toBe(
      "POLICY_LINT_FAILED",
    );
    await rm(extra);
  });
});
