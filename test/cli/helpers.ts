/** Runs the creditgate command in-process, or as a real process, with captured output. */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { main } from "../../src/cli/main.js";
import { packageRoot } from "../../src/paths.js";

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runCli(
  argv: readonly string[],
  options: { cwd: string; env?: Record<string, string | undefined> },
): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: options.env ?? {},
    cwd: options.cwd,
  });
  return { code, stdout, stderr };
}

// The child runs in a temporary cwd, so the tsx loader is resolved from the package.
const tsxLoader = pathToFileURL(createRequire(join(packageRoot, "package.json")).resolve("tsx"));
const mainUrl = pathToFileURL(join(packageRoot, "src", "cli", "main.ts"));
const childScript = `const { main } = await import(${JSON.stringify(mainUrl.href)}); process.exitCode = await main(process.argv.slice(1));`;

/**
 * Runs the creditgate command as a real process (node with the tsx loader, so no build is
 * needed), with only PATH, HOME and the given variables in its environment.
 */
export function spawnCli(
  argv: readonly string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", tsxLoader.href, "--input-type=module", "-e", childScript, ...argv],
      {
        cwd: options.cwd,
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...options.env },
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
