/** A throwaway git checkout holding a copy of the policy sources, for tests that really build. */
import { execFile } from "node:child_process";
import { cp, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { packageRoot } from "../../src/paths.js";
import { type BuildLayout, defaultLayout } from "../../src/policy/build.js";

export const git = promisify(execFile);

export interface PolicySandbox {
  readonly root: string;
  readonly layout: BuildLayout;
  commit(message: string): Promise<void>;
}

export async function policySandbox(): Promise<PolicySandbox> {
  const root = await mkdtemp(join(tmpdir(), "creditgate-build-"));
  await cp(join(packageRoot, "policies"), join(root, "policies"), { recursive: true });
  await cp(join(packageRoot, "schemas"), join(root, "schemas"), { recursive: true });
  const run = (...args: string[]) => git("git", args, { cwd: root });
  await run("init", "-q");
  await run("config", "user.email", "ci@creditgate.invalid");
  await run("config", "user.name", "creditgate tests");
  const commit = async (message: string) => {
    await run("add", "-A");
    await run("commit", "-q", "-m", message);
  };
  await commit("policy sources");
  return { root, layout: defaultLayout(root), commit };
}
