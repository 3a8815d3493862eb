import { copyFile, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CreditgateError } from "../../src/errors.js";
import { type ActivationEvent, ActivePolicy } from "../../src/policy/active-policy.js";
import {
  committedBundleFiles,
  committedBundlePath,
  devSigningKey,
  devVerificationKey,
  repack,
  utf8,
} from "../helpers/bundles.js";
import { baseInput } from "../helpers/inputs.js";

let dir: string;
let bundlePath: string;
let active: ActivePolicy | undefined;
const events: ActivationEvent[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "creditgate-active-"));
  bundlePath = join(dir, "creditgate.tar.gz");
  await copyFile(committedBundlePath, bundlePath);
  events.length = 0;
});
afterEach(async () => {
  active?.close();
  active = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function start() {
  active = await ActivePolicy.start({
    bundlePath,
    trust: { verificationKey: await devVerificationKey() },
    onActivation: (event) => events.push(event),
    watchDebounceMs: 20,
  });
  return active;
}

/** A validly signed bundle that differs from the committed one (its revision is renamed). */
async function otherSignedBundle(revision: string): Promise<Buffer> {
  const files = await committedBundleFiles();
  const manifest = JSON.parse(Buffer.from(files.get(".manifest")!).toString()) as Record<
    string,
    unknown
  >;
  return repack(
    files,
    { ".manifest": utf8(JSON.stringify({ ...manifest, revision })) },
    await devSigningKey(),
  );
}

async function until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("the active policy", () => {
  it("refuses to start without a valid bundle", async () => {
    await writeFile(
      bundlePath,
      await repack(await committedBundleFiles(), { ".signatures.json": null }),
    );
    await expect(start()).rejects.toBeInstanceOf(CreditgateError);
    await rm(bundlePath);
    await expect(start()).rejects.toMatchObject({ code: "BUNDLE_NOT_FOUND" });
  });

  it("keeps deciding on the last good revision when a bad bundle is dropped in place", async () => {
    const policy = await start();
    const good = policy.current.revision;
    await writeFile(
      bundlePath,
      await repack(await committedBundleFiles(), { "data.json": utf8("{}") }),
    );
    const event = await policy.reload();
    expect(event).toMatchObject({ kind: "rejected", keptRevision: good });
    expect((event as { error: CreditgateError }).error.code).toBe("BUNDLE_DIGEST_MISMATCH");
    expect(policy.current.revision).toBe(good);
    expect(policy.current.evaluate(baseInput()).allow).toBe(true);
  });

  it("activates a new valid bundle and reports the previous revision", async () => {
    const policy = await start();
    const before = policy.current.revision;
    await writeFile(bundlePath, await otherSignedBundle("next-revision"));
    expect(await policy.reload()).toMatchObject({
      kind: "activated",
      revision: "next-revision",
      previousRevision: before,
    });
    expect(policy.current.revision).toBe("next-revision");
    expect(await policy.reload()).toMatchObject({ kind: "unchanged" });
  });

  it("picks up a bundle renamed into place while watching", async () => {
    const policy = await start();
    policy.watch();
    const staged = join(dir, "incoming.tmp");
    await writeFile(staged, await otherSignedBundle("watched-revision"));
    await rename(staged, bundlePath);
    await until(() => policy.current.revision === "watched-revision");
    expect(events.at(-1)).toMatchObject({ kind: "activated", revision: "watched-revision" });
  });
});
