/**
 * Finding and running the pinned OPA toolchain (opa, regal) that scripts/toolchain.sh installs
 * into .tools/bin. OPA_BIN and REGAL_BIN override the location.
 */
import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { join } from "node:path";
import { CreditgateError } from "../errors.js";
import { limits } from "../limits.js";
import { packageRoot } from "../paths.js";

export type Tool = "opa" | "regal";

const overrideVariable: Readonly<Record<Tool, string>> = { opa: "OPA_BIN", regal: "REGAL_BIN" };

export function toolPath(tool: Tool): string {
  const override = process.env[overrideVariable[tool]];
  const candidate =
    override !== undefined && override !== "" ? override : join(packageRoot, ".tools", "bin", tool);
  try {
    accessSync(candidate, constants.X_OK);
  } catch {
    throw new CreditgateError("TOOLCHAIN_MISSING", {
      message: `${tool} not found at ${candidate}; run \`npm run toolchain\` (or set ${overrideVariable[tool]})`,
      details: { tool, path: candidate },
    });
  }
  return candidate;
}

export interface ToolResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a tool to completion, capturing output; a non-zero exit is returned, not thrown. */
export function runTool(
  tool: Tool,
  args: readonly string[],
  options: { readonly cwd?: string; readonly timeoutMs?: number; readonly stdin?: string } = {},
): Promise<ToolResult> {
  const bin = toolPath(tool);
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      cwd: options.cwd ?? packageRoot,
      stdio: ["pipe", "pipe", "pipe"],
      timeout: options.timeoutMs ?? limits.opaCommandTimeoutMs,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", (cause) =>
      reject(
        new CreditgateError("TOOLCHAIN_FAILED", {
          message: `cannot run ${bin}: ${cause.message}`,
          cause,
        }),
      ),
    );
    child.on("close", (code, signal) => {
      if (signal !== null) {
        reject(
          new CreditgateError("TOOLCHAIN_FAILED", {
            message: `${tool} ${args[0] ?? ""} was stopped by ${signal} (timeout ${options.timeoutMs ?? limits.opaCommandTimeoutMs} ms?)`,
          }),
        );
        return;
      }
      resolve({
        exitCode: code ?? 1,
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
      });
    });
    child.stdin.end(options.stdin ?? "");
  });
}
