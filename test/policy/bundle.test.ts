import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreditgateError } from "../../src/errors.js";
import { readBundleBytes, readBundleFile } from "../../src/policy/bundle.js";
import { PolicyEvaluator } from "../../src/policy/evaluator.js";
import {
  committedBundleFiles,
  committedBundlePath,
  devSigningKey,
  devVerificationKey,
  repack,
  utf8,
} from "../helpers/bundles.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "creditgate-bundle-test-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CreditgateError);
  return (error as CreditgateError).code;
}

describe("loading a bundle", () => {
  it("loads the committed bundle: verified, with revision, digest and data", async () => {
    const bundle = await readBundleFile(committedBundlePath, {
      verificationKey: await devVerificationKey(),
    });
    expect(bundle.signedBy).toBe("default");
    expect(bundle.revision).toMatch(/^[0-9a-f]{40}$/);
    expect(bundle.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(bundle.manifest.wasm).toContainEqual({
      entrypoint: "creditgate/decision",
      module: "policy.wasm",
    });
    expect(Object.keys(bundle.data)).toEqual(expect.arrayContaining(["plans", "prices"]));
  });

  it("refuses an unsigned bundle unless unsigned bundles are explicitly allowed", async () => {
    const unsigned = await repack(await committedBundleFiles(), { ".signatures.json": null });
    expect(
      await codeOf(readBundleBytes(unsigned, { verificationKey: await devVerificationKey() })),
    ).toBe("BUNDLE_UNSIGNED");
    const allowed = await readBundleBytes(unsigned, { allowUnsigned: true });
    expect(allowed.signedBy).toBeNull();
  });

  it("still verifies a present signature when unsigned bundles are allowed", async () => {
    const tampered = await repack(await committedBundleFiles(), { "policy.wasm": utf8("\0asm") });
    const trust = { verificationKey: await devVerificationKey(), allowUnsigned: true };
    expect(await codeOf(readBundleBytes(tampered, trust))).toBe("BUNDLE_DIGEST_MISMATCH");
  });

  it("refuses a file that is missing or over the size cap without reading it", async () => {
    const key = await devVerificationKey();
    expect(await codeOf(readBundleFile(join(dir, "absent.tar.gz"), { verificationKey: key }))).toBe(
      "BUNDLE_NOT_FOUND",
    );
    const limits = { compressedBytesMax: 1024, uncompressedBytesMax: 1 << 26, filesMax: 100 };
    expect(
      await codeOf(readBundleFile(committedBundlePath, { verificationKey: key, limits })),
    ).toBe("BUNDLE_TOO_LARGE");
  });

  it("refuses a signed bundle whose manifest lacks the decision entrypoint", async () => {
    const files = await committedBundleFiles();
    const manifest = JSON.parse(Buffer.from(files.get(".manifest")!).toString()) as Record<
      string,
      unknown
    >;
    const noEntrypoint = await repack(
      files,
      { ".manifest": utf8(JSON.stringify({ ...manifest, wasm: [] })) },
      await devSigningKey(),
    );
    expect(
      await codeOf(readBundleBytes(noEntrypoint, { verificationKey: await devVerificationKey() })),
    ).toBe("BUNDLE_MANIFEST_INVALID");
    const noWasmSection = await repack(
      files,
      { ".manifest": utf8(JSON.stringify({ revision: "r" })) },
      await devSigningKey(),
    );
    expect(
      await codeOf(readBundleBytes(noWasmSection, { verificationKey: await devVerificationKey() })),
    ).toBe("BUNDLE_MANIFEST_INVALID");
  });

  it("refuses a signed bundle whose Wasm cannot be instantiated", async () => {
    const garbage = await repack(
      await committedBundleFiles(),
      { "policy.wasm": utf8("\0asm garbage") },
      await devSigningKey(),
    );
    const bundle = await readBundleBytes(garbage, { verificationKey: await devVerificationKey() });
    expect(await codeOf(PolicyEvaluator.create(bundle))).toBe("BUNDLE_INCOMPATIBLE");
  });

  it("gives the same digest for the same bytes and another for other bytes", async () => {
    const bytes = await readFile(committedBundlePath);
    await writeFile(join(dir, "copy.tar.gz"), bytes);
    const key = await devVerificationKey();
    const a = await readBundleFile(committedBundlePath, { verificationKey: key });
    const b = await readBundleFile(join(dir, "copy.tar.gz"), { verificationKey: key });
    expect(b.digest).toBe(a.digest);
    const resigned = await readBundleBytes(
      await repack(await committedBundleFiles(), {}, await devSigningKey()),
      {
        verificationKey: key,
      },
    );
    expect(resigned.digest).not.toBe(a.digest);
  });
});
