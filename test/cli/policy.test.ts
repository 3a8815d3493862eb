import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { packageRoot } from "../../src/paths.js";
import { committedBundleFiles, committedBundlePath, repack, utf8 } from "../helpers/bundles.js";
import { baseInput } from "../helpers/inputs.js";

async function cli(...argv: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: {},
    cwd: packageRoot,
  });
  return { code, stdout, stderr };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "creditgate-cli-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("creditgate policy verify", () => {
  it("accepts the committed bundle", async () => {
    const { code, stdout } = await cli("policy", "verify", committedBundlePath);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      ok: true,
      signed_by: "default",
      revision: expect.any(String),
    });
  });

  it.each([
    ["data.json altered", { "data.json": utf8('{"plans":{}}') }, "BUNDLE_DIGEST_MISMATCH"],
    ["policy.wasm altered", { "policy.wasm": utf8("\0asm\x01\0\0\0") }, "BUNDLE_DIGEST_MISMATCH"],
    ["unsigned", { ".signatures.json": null }, "BUNDLE_UNSIGNED"],
  ] as const)("refuses a copy with %s", async (name, changes, code) => {
    const file = join(dir, `${name.replace(/\W/g, "-")}.tar.gz`);
    await writeFile(file, await repack(await committedBundleFiles(), changes));
    const result = await cli("policy", "verify", file);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(code);
  });
});

describe("creditgate policy eval", () => {
  it("denies a trial user calling a code-execution tool with a hard stop", async () => {
    const input = baseInput({
      principal: {
        kind: "user",
        id: "usr_t",
        tenant: "acme",
        plan: "trial",
        roles: [],
        scopes: [],
      },
      action: { type: "tool.call", tool: "code.exec" },
      balances: { trial: 100_000, paid: 0, promo: 0, admin: 0 },
    });
    const file = join(dir, "input.json");
    await writeFile(file, JSON.stringify(input));
    const { code, stdout } = await cli("policy", "eval", "--input", file);
    expect(code).toBe(0);
    const decision = JSON.parse(stdout) as {
      allow: boolean;
      reasons: { code: string }[];
      obligations: { hard_stop?: boolean };
    };
    expect(decision.allow).toBe(false);
    expect(decision.obligations.hard_stop).toBe(true);
    expect(decision.reasons.map((r) => r.code)).toContain("TRIAL_HIGH_RISK_TOOL");
  });

  it("reports an input outside the contract with its code and path", async () => {
    const file = join(dir, "bad.yaml");
    await writeFile(file, "principal: {}\n");
    const { code, stderr } = await cli("policy", "eval", "--input", file);
    expect(code).toBe(1);
    expect(stderr).toContain("POLICY_INPUT_INVALID");
    expect(stderr).toContain("/principal");
  });
});

describe("creditgate policy promote", () => {
  it("replaces the configured policy.bundle with a verified bundle and prints its revision", async () => {
    const served = join(dir, "promote", "served.tar.gz");
    const config = join(dir, "promote.yaml");
    await writeFile(config, "policy:\n  bundle: promote/served.tar.gz\n");
    const result = await cli("policy", "promote", committedBundlePath, "--config", config);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { promoted: string; revision: string };
    expect(report.promoted).toBe(served);
    const verified = await cli("policy", "verify", served);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, revision: report.revision });
  });

  it("refuses an unsigned bundle with its code and writes nothing", async () => {
    const file = join(dir, "unsigned-promote.tar.gz");
    await writeFile(file, await repack(await committedBundleFiles(), { ".signatures.json": null }));
    const target = join(dir, "never.tar.gz");
    const result = await cli("policy", "promote", file, "--to", target);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("BUNDLE_UNSIGNED");
    expect((await cli("policy", "verify", target)).stderr).toContain("BUNDLE_NOT_FOUND");
  });
});

describe("the creditgate command", () => {
  it("answers a usage mistake with exit code 2 and help", async () => {
    expect((await cli("nope")).code).toBe(2);
    expect((await cli("policy", "eval")).code).toBe(2);
    expect((await cli("policy", "verify", "--no-such-flag")).code).toBe(2);
  });

  it("runs as the installed binary", async () => {
    const { stdout } = await promisify(execFile)(
      "node",
      [join(packageRoot, "bin", "creditgate.js"), "policy", "verify"],
      {
        cwd: packageRoot,
      },
    );
    expect(JSON.parse(stdout)).toMatchObject({ ok: true });
  });
});
