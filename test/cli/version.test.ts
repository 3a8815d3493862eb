/** `creditgate --version` and `-v`, through bin/creditgate.js (the built CLI): the package version. */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { packageRoot } from "../../src/paths.js";
import { runCli } from "./helpers.js";

const run = promisify(execFile);
const version = (
  JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as {
    version: string;
  }
).version;

describe("creditgate --version", () => {
  it.each(["--version", "-v"])("prints the package version for %s and exits 0", async (flag) => {
    const { stdout, stderr } = await run(process.execPath, [
      join(packageRoot, "bin", "creditgate.js"),
      flag,
    ]);
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    expect(stdout).toBe(`${version}\n`);
    expect(stderr).toBe("");
  });

  it("is listed in the help", async () => {
    const help = await runCli(["--help"], { cwd: packageRoot });
    expect(help.stdout).toContain("--version");
  });
});
