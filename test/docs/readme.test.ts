/**
 * The README quick start, run as written: its ```sh blocks in order, in one shell environment,
 * against a live `creditgate serve` on a fresh SQLite database. Each command's output must
 * contain the fields and codes the README shows (test/helpers/walkthrough.ts says how shown
 * output is compared). The only substitutions are the ones a reader's machine makes for them:
 * `npm install` has already run, `npm start` is the service this test starts (on a free port,
 * which `$CREDITGATE_URL` carries), and `npx creditgate` runs this checkout's CLI from source.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../src/paths.js";
import { missingPairs, section, walkthroughSteps } from "../helpers/walkthrough.js";

const readme = readFileSync(join(packageRoot, "README.md"), "utf8");
const quickStart = section(readme, "## Quick start");
const steps = walkthroughSteps(quickStart);

const tsx = pathToFileURL(createRequire(join(packageRoot, "package.json")).resolve("tsx"));
const mainUrl = pathToFileURL(join(packageRoot, "src", "cli", "main.ts"));

let cwd: string;
let service: ChildProcess | undefined;
let serviceOut = "";
let url = "";

/** The reader's commands as the README says they behave, for this checkout. */
function prelude(): string {
  return [
    "set -o pipefail",
    `npx() { if [ "$1" = creditgate ]; then shift; node --import ${JSON.stringify(tsx.href)} ${JSON.stringify(join(cwd, "cli.mjs"))} "$@"; else command npx "$@"; fi; }`,
    // npm install has run; npm start is the service this test started.
    'npm() { case "$1" in install|start) return 0 ;; *) command npm "$@" ;; esac; }',
    `[ -f ${JSON.stringify(join(cwd, "env.sh"))} ] && . ${JSON.stringify(join(cwd, "env.sh"))}`,
  ].join("\n");
}

function run(command: string): { status: number | null; stdout: string; stderr: string } {
  const script = `${prelude()}\n${command}\nstatus=$?\nexport -p > ${JSON.stringify(join(cwd, "env.sh"))}\nexit $status\n`;
  const result = spawnSync("bash", ["-c", script], {
    cwd,
    encoding: "utf8",
    timeout: 60_000,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? cwd,
      CREDITGATE_URL: url,
      CREDITGATE_SQLITE_PATH: join(cwd, "data", "creditgate.db"),
    },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(async () => {
  cwd = mkdtempSync(join(tmpdir(), "creditgate-readme-"));
  // Paths the README names relative to the checkout.
  for (const entry of ["bundles", "keys", "policies", "schemas"]) {
    symlinkSync(join(packageRoot, entry), join(cwd, entry));
  }
  writeFileSync(
    join(cwd, "cli.mjs"),
    `const { main } = await import(${JSON.stringify(mainUrl.href)});\nprocess.exitCode = await main(process.argv.slice(2));\n`,
  );
  const child = spawn(
    process.execPath,
    ["--import", tsx.href, join(cwd, "cli.mjs"), "serve", "--port", "0"],
    {
      cwd,
      env: {
        ...process.env,
        PORT: "",
        CREDITGATE_PORT: "",
        CREDITGATE_CONFIG: "",
        CREDITGATE_SQLITE_PATH: join(cwd, "data", "creditgate.db"),
      },
    },
  );
  service = child;
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    serviceOut += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    serviceOut += chunk;
  });
  url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line:\n${serviceOut}`)), 60_000);
    child.stdout?.on("data", () => {
      const match = /creditgate listening on (http:\/\/\S+)/.exec(serviceOut);
      if (match !== null) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}:\n${serviceOut}`));
    });
  });
}, 120_000);

afterAll(() => {
  service?.kill("SIGKILL");
  rmSync(cwd, { recursive: true, force: true });
});

describe("README quick start", () => {
  it("has steps that start and run the service", () => {
    expect(steps.length).toBeGreaterThan(10);
    expect(steps[0]?.command).toMatch(/^npm install\b[^\n]*\nnpm start\b/);
    expect(quickStart).toContain("$CREDITGATE_URL");
    // Shown revisions and digests go stale with every policy change: placeholders only.
    expect(quickStart).not.toMatch(/[0-9a-f]{40}/);
    expect(quickStart).not.toMatch(/sha256:[0-9a-f]{8}/);
  });

  it("prints the listening line it shows", () => {
    const shown = /^creditgate listening on .*$/m.exec(quickStart)?.[0];
    expect(shown).toBeDefined();
    const pattern = (shown as string)
      .replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
      .replace(/<[^>]+>/g, "\\S+")
      .replace("http://127\\.0\\.0\\.1:8080", "http://127\\.0\\.0\\.1:\\d+");
    expect(serviceOut).toMatch(new RegExp(pattern));
  });

  it("runs every command as written, showing what the README shows", () => {
    for (const step of steps) {
      const result = run(step.command);
      const where = `README.md line ${step.line}: ${step.command.split("\n")[0]}`;
      expect({ where, status: result.status, stderr: result.stderr }).toEqual({
        where,
        status: 0,
        stderr: expect.any(String),
      });
      expect({
        where,
        missing: missingPairs(step.shown, result.stdout),
        output: result.stdout,
      }).toEqual({ where, missing: [], output: expect.any(String) });
    }
  }, 300_000);
});
