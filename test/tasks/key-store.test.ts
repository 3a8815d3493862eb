/** The key file: created 0600 with one key, replaced atomically, re-read after another process rotates. */
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isCreditgateError } from "../../src/errors.js";
import { limits } from "../../src/limits.js";
import { TaskKeyStore } from "../../src/tasks/index.js";
import { leadSeconds, newClock, second, tasksConfig, tempDir } from "./fixtures.js";

let dir: string;
let remove: () => Promise<void>;
beforeEach(async () => {
  ({ dir, remove } = await tempDir());
});
afterEach(async () => {
  await remove();
});

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe("TaskKeyStore", () => {
  it("creates the file on first use with one active key, mode 0600", async () => {
    const config = tasksConfig(dir);
    const store = await TaskKeyStore.open(config, { clock: newClock() });
    expect(await mode(config.keys_file)).toBe(0o600);
    expect(store.keySet.keys).toHaveLength(1);
    expect(store.list().map((entry) => entry.state)).toEqual(["active"]);
    expect((await store.signingKey()).kid).toBe(store.keySet.keys[0]!.kid);
    const reopened = await TaskKeyStore.open(config, { clock: newClock() });
    expect(reopened.keySet).toEqual(store.keySet);
  });

  it("does not create the file when told not to", async () => {
    const error = await TaskKeyStore.open(tasksConfig(dir), { create: false }).catch((e) => e);
    expect(isCreditgateError(error, "TASK_KEYS_INVALID")).toBe(true);
  });

  it("ends with one key set when two processes create the file at once", async () => {
    const config = tasksConfig(dir);
    const [a, b] = await Promise.all([
      TaskKeyStore.open(config, { clock: newClock() }),
      TaskKeyStore.open(config, { clock: newClock() }),
    ]);
    expect(a.keySet).toEqual(b.keySet);
  });

  it("rotates by replacing the file atomically, still 0600, leaving no temp file", async () => {
    const config = tasksConfig(dir);
    const clock = newClock();
    const store = await TaskKeyStore.open(config, { clock });
    const before = await stat(config.keys_file);
    const { added, retiring, pruned } = await store.rotate();
    const after = await stat(config.keys_file);
    // A new inode: the file was renamed into place, never rewritten in place.
    expect(after.ino).not.toBe(before.ino);
    expect(after.mode & 0o777).toBe(0o600);
    expect(await readdir(dirname(config.keys_file))).toEqual(["task-keys.json"]);
    expect(added.activatesAtMs).toBe(clock.nowMs() + leadSeconds * second);
    expect(retiring?.retiresAtMs).toBe(added.activatesAtMs);
    expect(pruned).toEqual([]);
    const onDisk = JSON.parse(await readFile(config.keys_file, "utf8")) as { keys: unknown[] };
    expect(onDisk.keys).toHaveLength(2);
    expect(store.list().map((entry) => entry.state)).toEqual(["active", "next"]);
  });

  it("prunes keys whose tokens have all expired when rotating", async () => {
    const config = tasksConfig(dir);
    const clock = newClock();
    const store = await TaskKeyStore.open(config, { clock });
    const first = (await store.rotate()).retiring!;
    clock.tick(
      (leadSeconds + config.ttl_seconds_max + limits.taskTokenClockToleranceSeconds) * second,
    );
    const { pruned } = await store.rotate();
    expect(pruned).toEqual([first.kid]);
    expect(store.keySet.keys).toHaveLength(2);
  });

  it("refuses to rotate past limits.taskKeysMax published keys", async () => {
    const store = await TaskKeyStore.open(tasksConfig(dir), { clock: newClock() });
    for (let i = 1; i < limits.taskKeysMax; i++) await store.rotate();
    const error = await store.rotate().catch((e) => e);
    expect(isCreditgateError(error, "TASK_KEYS_FULL")).toBe(true);
  });

  it("picks up another process's rotation on the next check, at most once a second", async () => {
    const config = tasksConfig(dir);
    const clock = newClock();
    const here = await TaskKeyStore.open(config, { clock });
    const there = await TaskKeyStore.open(config, { clock: newClock() });
    const { added } = await there.rotate();
    expect((await here.publishedJwks()).keys).toHaveLength(1); // checked less than 1 s ago
    clock.tick(limits.taskKeyReloadMinMs);
    const published = (await here.publishedJwks()).keys.map((k) => k.kid);
    expect(published).toContain(added.kid);
    expect(published).toHaveLength(2);
  });

  it("refuses a corrupt file with TASK_KEYS_INVALID", async () => {
    const config = tasksConfig(dir);
    await TaskKeyStore.open(config);
    await writeFile(config.keys_file, '{"version": 1, "keys": [{"kid": "x"}]}');
    const error = await TaskKeyStore.open(config).catch((e) => e);
    expect(isCreditgateError(error, "TASK_KEYS_INVALID")).toBe(true);
    expect((error as Error).message).toContain(config.keys_file);
  });

  it("refuses an oversized file before reading it", async () => {
    const config = tasksConfig(dir);
    await TaskKeyStore.open(config);
    await writeFile(config.keys_file, " ".repeat(limits.taskKeysFileBytesMax + 1));
    const error = await TaskKeyStore.open(config).catch((e) => e);
    expect(isCreditgateError(error, "TASK_KEYS_INVALID")).toBe(true);
    expect((error as Error).message).toMatch(/exceeds/);
  });

  it("keeps the last good key set when the file turns corrupt while running", async () => {
    const config = tasksConfig(dir);
    const clock = newClock();
    const store = await TaskKeyStore.open(config, { clock });
    const kid = (await store.signingKey()).kid;
    await writeFile(config.keys_file, "not json");
    clock.tick(limits.taskKeyReloadMinMs);
    expect((await store.signingKey()).kid).toBe(kid);
    expect(store.reloadError?.code).toBe("TASK_KEYS_INVALID");
  });
});
