import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { exportPKCS8, exportSPKI, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { CreditgateError } from "../../src/errors.js";
import {
  bundleFileDigest,
  signBundleFiles,
  verifyBundleSignature,
} from "../../src/policy/signature.js";
import { readTarGz } from "../../src/policy/tar.js";
import { toolPath } from "../../src/policy/toolchain.js";
import {
  committedBundleFiles,
  devSigningKey,
  devVerificationKey,
  repack,
  utf8,
} from "../helpers/bundles.js";

const run = promisify(execFile);

async function rejectionCode(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CreditgateError);
  return (error as CreditgateError).code;
}

async function otherKeys() {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  return {
    signing: { keyId: "default", algorithm: "ES256" as const, key: privateKey },
    verification: { keyId: "default", algorithm: "ES256" as const, key: publicKey },
    privatePem: await exportPKCS8(privateKey),
    publicPem: await exportSPKI(publicKey),
  };
}

describe("bundle signatures (OPA format)", () => {
  it("verifies the bundle opa build signed", async () => {
    const verified = await verifyBundleSignature(
      await committedBundleFiles(),
      await devVerificationKey(),
    );
    expect(verified.keyId).toBe("default");
    expect(verified.files.map((f) => f.name)).toEqual(
      expect.arrayContaining(["data.json", "policy.wasm", ".manifest"]),
    );
  });

  it("hashes structured documents over their canonical form, other files over their bytes", () => {
    const compact = bundleFileDigest("data.json", utf8('{"b":[1,2],"a":"\u2028x"}'));
    const spaced = bundleFileDigest("data.json", utf8('{ "a" : "\\u2028x",\n  "b": [1, 2] }'));
    expect(spaced).toBe(compact);
    expect(bundleFileDigest("x.rego", utf8("a "))).not.toBe(bundleFileDigest("x.rego", utf8("a")));
  });

  it("refuses a bundle signed with another key", async () => {
    const other = await otherKeys();
    const files = readTarGz(await repack(await committedBundleFiles(), {}, other.signing));
    expect(await rejectionCode(verifyBundleSignature(files, await devVerificationKey()))).toBe(
      "BUNDLE_SIGNATURE_INVALID",
    );
    await expect(verifyBundleSignature(files, other.verification)).resolves.toBeDefined();
  });

  it("refuses altered, added and removed files", async () => {
    const original = await committedBundleFiles();
    const key = await devVerificationKey();
    const altered = readTarGz(await repack(original, { "data.json": utf8("{}") }));
    expect(await rejectionCode(verifyBundleSignature(altered, key))).toBe("BUNDLE_DIGEST_MISMATCH");
    const added = readTarGz(await repack(original, { "extra.rego": utf8("package extra\n") }));
    expect(await rejectionCode(verifyBundleSignature(added, key))).toBe("BUNDLE_DIGEST_MISMATCH");
    const removed = readTarGz(await repack(original, { "data.json": null }));
    expect(await rejectionCode(verifyBundleSignature(removed, key))).toBe("BUNDLE_DIGEST_MISMATCH");
  });

  it("refuses missing, empty, multiple and garbled signatures", async () => {
    const original = await committedBundleFiles();
    const key = await devVerificationKey();
    const sig = JSON.parse(Buffer.from(original.get(".signatures.json")!).toString()) as {
      signatures: string[];
    };
    const variants: Record<string, string> = {
      none: JSON.stringify({ signatures: [] }),
      two: JSON.stringify({ signatures: [sig.signatures[0], sig.signatures[0]] }),
      garbled: JSON.stringify({ signatures: [`${sig.signatures[0]}x`] }),
      notJson: "{",
    };
    for (const body of Object.values(variants)) {
      const files = readTarGz(await repack(original, { ".signatures.json": utf8(body) }));
      expect(await rejectionCode(verifyBundleSignature(files, key))).toBe(
        "BUNDLE_SIGNATURE_INVALID",
      );
    }
    const unsigned = readTarGz(await repack(original, { ".signatures.json": null }));
    expect(await rejectionCode(verifyBundleSignature(unsigned, key))).toBe("BUNDLE_UNSIGNED");
  });

  it("signs in a format OPA itself verifies", async () => {
    const other = await otherKeys();
    const dir = await mkdtemp(join(tmpdir(), "creditgate-sig-"));
    try {
      await writeFile(
        join(dir, "bundle.tar.gz"),
        await repack(await committedBundleFiles(), {}, other.signing),
      );
      await writeFile(join(dir, "pub.pem"), other.publicPem);
      await writeFile(join(dir, "key.pem"), other.privatePem);
      // opa build re-verifies the input bundle's signature before it writes the output.
      const verify = (pub: string) =>
        run(
          toolPath("opa"),
          [
            "build",
            "-b",
            "bundle.tar.gz",
            "--verification-key",
            pub,
            "--signing-alg",
            "ES256",
            "--signing-key",
            "key.pem",
            "-o",
            "out.tar.gz",
          ],
          { cwd: dir },
        );
      await expect(verify("pub.pem")).resolves.toBeDefined();
      const tampered = await repack(await committedBundleFiles(), { "data.json": utf8('{"x":1}') });
      await writeFile(join(dir, "bundle.tar.gz"), tampered);
      await expect(verify("pub.pem")).rejects.toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("signs every file but the signature itself", async () => {
    const files = new Map([
      ["data.json", utf8("{}")],
      [".signatures.json", utf8("old")],
    ]);
    const signature = await signBundleFiles(files, await devSigningKey());
    const signed = new Map([
      ["data.json", utf8("{}")],
      [".signatures.json", signature],
    ]);
    await expect(verifyBundleSignature(signed, await devVerificationKey())).resolves.toMatchObject({
      keyId: "default",
    });
  });
});
