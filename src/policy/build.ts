/**
 * `creditgate policy build`: validate data, check, format-check, lint, compile to Wasm, sign.
 * Every step fails with its own stable code and the tool's own message, so a broken build
 * says exactly what to fix. A build writes to build/, never to the bundle services serve:
 * going live is `policy promote` (promote.ts), a separate and deliberate step.
 */
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { CreditgateError } from "../errors.js";
import { loadPolicyData, stableJson } from "./data.js";
import { decisionEntrypoint } from "./manifest.js";
import { sourceRevision } from "./revision.js";
import { signaturesFile } from "./signature.js";
import { readTarGz } from "./tar.js";
import { runTool, type ToolResult } from "./toolchain.js";

export interface BuildLayout {
  /** Project root: holds policies/, schemas/, bundles/. */
  readonly root: string;
  readonly policiesDir: string;
  readonly dataDir: string;
  /** The committed bundle the service serves by default; `--check` compares against it. */
  readonly bundleFile: string;
  /** Where a build writes (git-ignored); nothing serves it until it is promoted. */
  readonly buildFile: string;
}

export function defaultLayout(root: string): BuildLayout {
  return {
    root,
    policiesDir: join(root, "policies"),
    dataDir: join(root, "policies", "data"),
    bundleFile: join(root, "bundles", "creditgate.tar.gz"),
    buildFile: join(root, "build", "creditgate.tar.gz"),
  };
}

export interface SigningOptions {
  readonly privateKeyPath: string;
  readonly algorithm: string;
}

export type BuildStep = "data" | "check" | "format" | "lint" | "compile" | "compare";

export interface BuildReport {
  readonly revision: string;
  readonly bundleFile: string;
  readonly steps: readonly BuildStep[];
  /** In check mode: files that differ between the committed and the rebuilt bundle. */
  readonly differences: readonly string[];
}

export interface BuildOptions {
  readonly layout: BuildLayout;
  /** Unsigned when omitted (for `policy test`, never for a shipped bundle). */
  readonly signing?: SigningOptions;
  /** Compare against the committed bundle instead of writing it. */
  readonly check?: boolean;
  /** Where to write the bundle instead of layout.buildFile. */
  readonly outFile?: string;
  /** Skip Regal (it is slow to start); `policy test` uses this, build and CI never do. */
  readonly skipLint?: boolean;
  readonly onStep?: (step: BuildStep) => void;
}

async function listRego(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory() && !entry.name.startsWith("."))
      out.push(...(await listRego(full, base)));
    else if (entry.isFile() && entry.name.endsWith(".rego")) out.push(relative(base, full));
  }
  return out.sort();
}

function toolFailure(
  code: "POLICY_CHECK_FAILED" | "POLICY_LINT_FAILED" | "TOOLCHAIN_FAILED",
  what: string,
  result: ToolResult,
) {
  const output = `${result.stdout}${result.stderr}`.trim();
  return new CreditgateError(code, { message: `${what}:\n${output}`, details: { output } });
}

/**
 * Copies the Rego sources (with or without tests) and writes data.json into a fresh directory,
 * which is what `opa build -b`, `opa test` and `opa eval` are pointed at.
 */
export async function stagePolicy(
  layout: BuildLayout,
  options: { readonly includeTests: boolean; readonly data?: Record<string, unknown> },
): Promise<{
  readonly dir: string;
  readonly data: Record<string, unknown>;
  cleanup(): Promise<void>;
}> {
  const data = options.data ?? (await loadPolicyData(layout.dataDir));
  const dir = await mkdtemp(join(tmpdir(), "creditgate-stage-"));
  for (const file of await listRego(layout.policiesDir)) {
    if (!options.includeTests && file.endsWith("_test.rego")) continue;
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await copyFile(join(layout.policiesDir, file), join(dir, file));
  }
  await writeFile(join(dir, "data.json"), stableJson(data));
  return { dir, data, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Files whose bytes differ between two bundles, ignoring the signature (it is randomised). */
function bundleDifferences(committed: Uint8Array, rebuilt: Uint8Array): string[] {
  const a = readTarGz(committed);
  const b = readTarGz(rebuilt);
  const names = new Set([...a.keys(), ...b.keys()]);
  names.delete(signaturesFile);
  const differences: string[] = [];
  for (const name of [...names].sort()) {
    const left = a.get(name);
    const right = b.get(name);
    if (left === undefined) differences.push(`${name} (only in the rebuilt bundle)`);
    else if (right === undefined) differences.push(`${name} (only in the committed bundle)`);
    else if (!Buffer.from(left).equals(Buffer.from(right))) differences.push(name);
  }
  return differences;
}

export async function buildBundle(options: BuildOptions): Promise<BuildReport> {
  const { layout } = options;
  const step = (name: BuildStep) => options.onStep?.(name);
  const steps: BuildStep[] = [];

  step("data");
  const data = await loadPolicyData(layout.dataDir);
  steps.push("data");

  const checkStage = await stagePolicy(layout, { includeTests: true, data });
  const buildStage = await stagePolicy(layout, { includeTests: false, data });
  try {
    step("check");
    const check = await runTool("opa", ["check", "--strict", "--v1-compatible", "."], {
      cwd: checkStage.dir,
    });
    if (check.exitCode !== 0)
      throw toolFailure("POLICY_CHECK_FAILED", "opa check --strict failed", check);
    steps.push("check");

    step("format");
    const format = await runTool("opa", [
      "fmt",
      "--list",
      "--fail",
      "--v1-compatible",
      layout.policiesDir,
    ]);
    const unformatted = format.stdout.trim();
    if (format.exitCode !== 0 || unformatted !== "") {
      throw new CreditgateError("POLICY_FORMAT_FAILED", {
        message: `these files are not formatted (run \`.tools/bin/opa fmt -w policies\`):\n${unformatted || format.stderr.trim()}`,
        details: { files: unformatted.split("\n").filter(Boolean) },
      });
    }
    steps.push("format");

    if (!options.skipLint) {
      step("lint");
      const lint = await runTool("regal", ["lint", "--no-color", layout.policiesDir], {
        cwd: layout.root,
      });
      if (lint.exitCode !== 0)
        throw toolFailure("POLICY_LINT_FAILED", "regal lint found violations", lint);
      steps.push("lint");
    }

    step("compile");
    const revision = await sourceRevision(layout.root);
    const outDir = await mkdtemp(join(tmpdir(), "creditgate-bundle-"));
    const built = join(outDir, "bundle.tar.gz");
    const args = [
      "build",
      "-b",
      ".",
      "-t",
      "wasm",
      "-e",
      decisionEntrypoint,
      "--revision",
      revision,
      "-o",
      built,
    ];
    if (options.signing !== undefined) {
      args.push(
        "--signing-key",
        options.signing.privateKeyPath,
        "--signing-alg",
        options.signing.algorithm,
      );
    }
    try {
      const compile = await runTool("opa", args, { cwd: buildStage.dir });
      if (compile.exitCode !== 0)
        throw toolFailure("POLICY_CHECK_FAILED", "opa build -t wasm failed", compile);
      steps.push("compile");
      const bytes = await readFile(built);

      if (options.check) {
        step("compare");
        let committed: Uint8Array;
        try {
          committed = await readFile(layout.bundleFile);
        } catch (cause) {
          throw new CreditgateError("BUNDLE_OUT_OF_DATE", {
            message: `no committed bundle at ${layout.bundleFile}`,
            cause,
          });
        }
        const differences = bundleDifferences(committed, bytes);
        if (differences.length > 0) {
          throw new CreditgateError("BUNDLE_OUT_OF_DATE", {
            message: `${relative(layout.root, layout.bundleFile)} does not match the source (revision ${revision}); run \`npx creditgate policy build\`, then \`npx creditgate policy promote\`, and commit bundles/.\ndiffering: ${differences.join(", ")}`,
            details: { differences, revision },
          });
        }
        steps.push("compare");
        return { revision, bundleFile: layout.bundleFile, steps, differences };
      }

      const target = options.outFile ?? layout.buildFile;
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, bytes);
      return { revision, bundleFile: target, steps, differences: [] };
    } finally {
      await rm(outDir, { recursive: true, force: true });
    }
  } finally {
    await checkStage.cleanup();
    await buildStage.cleanup();
  }
}
