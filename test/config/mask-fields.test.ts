/** audit.mask_fields is checked against the maskable paths at start-up, every problem named. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "creditgate-config-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function load(yaml: string) {
  const file = join(dir, "creditgate.yaml");
  await writeFile(file, yaml);
  return loadConfig({ file, env: {}, cwd: dir });
}

describe("audit.mask_fields", () => {
  it("accepts maskable paths and resolves the pseudonym key file next to the config", async () => {
    const config = await load(
      "audit:\n  mask_fields: [context.principal.id, context.response]\n  pseudonym_key_file: k/p\n",
    );
    expect(config.audit.mask_fields).toEqual(["context.principal.id", "context.response"]);
    expect(config.audit.pseudonym_key_file).toBe(join(dir, "k/p"));
  });

  it("refuses unknown paths by name, collected with the other problems", async () => {
    const error = await load(
      "server: { port: -1 }\naudit:\n  mask_fields: [context.email, context.principal.id, context.principal.idx]\n",
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "CONFIG_INVALID" });
    const { message, details } = error as { message: string; details: { violations: unknown[] } };
    expect(message).toContain('/audit/mask_fields/0: "context.email" is not a maskable path');
    expect(message).toContain('/audit/mask_fields/2: "context.principal.idx" is not a maskable');
    expect(message).not.toContain("/audit/mask_fields/1");
    expect(message).toContain("/server/port");
    expect(details.violations).toHaveLength(3);
  });
});
