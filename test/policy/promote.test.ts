/**
 * A build is not a deploy: building leaves what a watching service serves alone; promoting
 * replaces it, and only with a bundle the service itself would accept.
 */
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { generateKeyPair } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreditgateError } from "../../src/errors.js";
import { type ActivationEvent, ActivePolicy } from "../../src/policy/active-policy.js";
import { buildBundle } from "../../src/policy/build.js";
import { readBundleFile } from "../../src/policy/bundle.js";
import { promoteBundle } from "../../src/policy/promote.js";
import {
  committedBundleFiles,
  committedBundlePath,
  devSigningKeyPath,
  devVerificationKey,
  repack,
  utf8,
} from "../helpers/bundles.js";
import { git, type PolicySandbox, policySandbox } from "../helpers/policy-sandbox.js";

const signing = { privateKeyPath: devSigningKeyPath, algorithm: "ES256" };
const roots: string[] = [];
const policies: ActivePolicy[] = [];
afterAll(async () => {
  for (const policy of policies) policy.close();
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await sleep(25);
  }
}

/** A service's view of `served`: watching it, recording every activation attempt. */
async function watching(served: string) {
  const events: ActivationEvent[] = [];
  const active = await ActivePolicy.start({
    bundlePath: served,
    trust: { verificationKey: await devVerificationKey() },
    onActivation: (event) => events.push(event),
    watchDebounceMs: 20,
  });
  active.watch();
  policies.push(active);
  return { active, events };
}

describe("policy build and promote", () => {
  let box: PolicySandbox;
  beforeAll(async () => {
    box = await policySandbox();
    roots.push(box.root);
    await mkdir(dirname(box.layout.bundleFile), { recursive: true });
    await copyFile(committedBundlePath, box.layout.bundleFile);
  });

  it("a build leaves the served bundle alone; promoting it activates the new revision", async () => {
    const served = box.layout.bundleFile;
    const before = await readFile(served);
    const { active, events } = await watching(served);
    const startRevision = active.current.revision;

    const report = await buildBundle({ layout: box.layout, signing });
    const { stdout: head } = await git("git", ["rev-parse", "HEAD"], { cwd: box.root });
    expect(report.revision).toBe(head.trim());
    expect(report.revision).not.toBe(startRevision);
    // Longer than the watch debounce: a change to the served file would have been picked up.
    await sleep(500);
    expect(active.current.revision).toBe(startRevision);
    expect(events.map((e) => e.kind)).toEqual(["activated"]);
    expect(Buffer.compare(await readFile(served), before)).toBe(0);

    const promoted = await promoteBundle({
      from: box.layout.buildFile,
      to: served,
      verificationKey: await devVerificationKey(),
    });
    expect(promoted).toMatchObject({ revision: report.revision, signedBy: "default", to: served });
    await until(() => active.current.revision === report.revision);
    expect(events.at(-1)).toMatchObject({
      kind: "activated",
      revision: report.revision,
      previousRevision: startRevision,
    });
    // Exactly the verified bytes, and no temporary file left beside them.
    expect(Buffer.compare(await readFile(served), await readFile(box.layout.buildFile))).toBe(0);
    expect(await readdir(dirname(served))).toEqual(["creditgate.tar.gz"]);
  });
});

describe("policy promote refuses what a service would refuse", () => {
  it.each([
    ["an unsigned bundle", { ".signatures.json": null }, undefined, "BUNDLE_UNSIGNED"],
    [
      "a bundle altered after signing",
      { "data.json": utf8('{"plans":{}}') },
      undefined,
      "BUNDLE_DIGEST_MISMATCH",
    ],
    ["a bundle signed with another key", {}, "another key", "BUNDLE_SIGNATURE_INVALID"],
  ] as const)(
    "%s, with its code, and the served bundle stays",
    async (_name, changes, resign, code) => {
      const dir = await mkdtemp(join(tmpdir(), "creditgate-promote-"));
      roots.push(dir);
      const served = join(dir, "served", "creditgate.tar.gz");
      await mkdir(dirname(served));
      await copyFile(committedBundlePath, served);
      const { active, events } = await watching(served);
      const startRevision = active.current.revision;
      const candidate = join(dir, "candidate.tar.gz");
      const key =
        resign === undefined
          ? undefined
          : {
              keyId: "default",
              algorithm: "ES256" as const,
              key: (await generateKeyPair("ES256")).privateKey,
            };
      await writeFile(candidate, await repack(await committedBundleFiles(), changes, key));

      const error = await promoteBundle({
        from: candidate,
        to: served,
        verificationKey: await devVerificationKey(),
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(CreditgateError);
      expect((error as CreditgateError).code).toBe(code);

      await sleep(300);
      expect(active.current.revision).toBe(startRevision);
      expect(events.map((e) => e.kind)).toEqual(["activated"]);
      expect(Buffer.compare(await readFile(served), await readFile(committedBundlePath))).toBe(0);
      expect(await readdir(dirname(served))).toEqual(["creditgate.tar.gz"]);
    },
  );

  it("a missing build is BUNDLE_NOT_FOUND", async () => {
    const dir = await mkdtemp(join(tmpdir(), "creditgate-promote-"));
    roots.push(dir);
    const error = await promoteBundle({
      from: join(dir, "build", "creditgate.tar.gz"),
      to: join(dir, "served.tar.gz"),
      verificationKey: await devVerificationKey(),
    }).catch((e: unknown) => e);
    expect((error as CreditgateError).code).toBe("BUNDLE_NOT_FOUND");
    await expect(readBundleFile(join(dir, "served.tar.gz"), {})).rejects.toThrow();
  });
});
