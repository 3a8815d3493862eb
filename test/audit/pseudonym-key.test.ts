/** The pseudonym key file: created once (0600), the same key on every later start. */
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Pseudonyms } from "../../src/audit/pseudonym.js";
import { loadPseudonymKey } from "../../src/audit/pseudonym-key.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "creditgate-pseudonym-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("loadPseudonymKey", () => {
  it("creates the key with mode 0600 and answers the same pseudonyms after a restart", async () => {
    const path = join(dir, "nested", "pseudonym-key");
    const [a, b] = await Promise.all([loadPseudonymKey(path), loadPseudonymKey(path)]);
    expect(a.of("usr_1")).toBe(b.of("usr_1"));
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await loadPseudonymKey(path)).of("usr_1")).toBe(a.of("usr_1"));
    const hex = (await readFile(path, "utf8")).trim();
    expect(a.of("usr_1")).toBe(new Pseudonyms(Buffer.from(hex, "hex")).of("usr_1"));
    expect(a.of("usr_1")).not.toBe(a.of("usr_2"));
    expect(a.of("usr_1")).not.toContain("usr_1");
  });

  it("refuses a file that is not a 32-byte hex key", async () => {
    const path = join(dir, "pseudonym-key");
    await writeFile(path, "not a key\n");
    await expect(loadPseudonymKey(path)).rejects.toMatchObject({
      code: "CONFIG_INVALID",
      message: expect.stringContaining(path),
    });
  });
});
