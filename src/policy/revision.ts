/**
 * The bundle revision names the source it was built from: the last git commit that touched
 * the policy sources (policies/ and the schemas of policy data, input and result), with "-dirty"
 * when they have uncommitted changes. API and config schemas do not shape a bundle, so changing
 * them leaves the revision alone.
 * Using the last commit *touching the sources* (not HEAD) keeps the revision stable when the
 * rebuilt bundle itself is committed afterwards, so `policy build --check` can compare it.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

const sourcePaths = [
  "policies",
  "schemas/policy-data",
  "schemas/decision-input.schema.json",
  "schemas/decision-result.schema.json",
] as const;

export async function sourceRevision(root: string): Promise<string> {
  try {
    const { stdout: commit } = await run(
      "git",
      ["log", "-1", "--format=%H", "--", ...sourcePaths],
      { cwd: root },
    );
    const { stdout: status } = await run("git", ["status", "--porcelain", "--", ...sourcePaths], {
      cwd: root,
    });
    const sha = commit.trim();
    if (sha === "") return status.trim() === "" ? "uncommitted" : "uncommitted-dirty";
    return status.trim() === "" ? sha : `${sha}-dirty`;
  } catch {
    // Not a git checkout (e.g. an unpacked release): say so rather than invent a revision.
    return "unversioned";
  }
}
