/** `creditgate keys rotate|list` against a key file under a temp directory. */
import { stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../cli/helpers.js";
import { tempDir } from "./fixtures.js";

let dir: string;
let remove: () => Promise<void>;
beforeEach(async () => {
  ({ dir, remove } = await tempDir());
});
afterEach(async () => {
  await remove();
});

interface Listing {
  keys: { kid: string; state: string; signs_from: string; signs_until: string | null }[];
}

describe("creditgate keys", () => {
  it("rotates (creating the file first) and lists next and active keys", async () => {
    const rotated = await runCli(["keys", "rotate"], { cwd: dir });
    expect(rotated).toMatchObject({ code: 0, stderr: "" });
    const result = JSON.parse(rotated.stdout) as {
      kid: string;
      signs_from: string;
      retiring: { kid: string; signs_until: string; published_until: string };
    };
    expect(result.retiring.signs_until).toBe(result.signs_from);
    expect(Date.parse(result.retiring.published_until)).toBe(
      Date.parse(result.signs_from) + (3_600 + 5) * 1_000,
    );
    const file = join(dir, "data", "task-keys.json");
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    const listed = await runCli(["keys", "list"], { cwd: dir });
    expect(listed.code).toBe(0);
    const { keys } = JSON.parse(listed.stdout) as Listing;
    expect(keys.map((k) => [k.kid, k.state])).toEqual([
      [result.retiring.kid, "active"],
      [result.kid, "next"],
    ]);
  });

  it("lists nothing it has to create, and names a corrupt file's problem", async () => {
    const missing = await runCli(["keys", "list"], { cwd: dir });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^creditgate: TASK_KEYS_INVALID: .*does not exist/);
    await runCli(["keys", "rotate"], { cwd: dir });
    await writeFile(join(dir, "data", "task-keys.json"), "{}");
    const corrupt = await runCli(["keys", "list"], { cwd: dir });
    expect(corrupt.code).toBe(1);
    expect(corrupt.stderr).toMatch(/^creditgate: TASK_KEYS_INVALID: /);
  });

  it("treats unknown subcommands as usage mistakes", async () => {
    const run = await runCli(["keys", "shred"], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("Usage: creditgate keys");
  });
});
