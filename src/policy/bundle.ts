/**
 * Reading a bundle from disk or bytes into a verified, immutable LoadedBundle: size-capped
 * archive read, signature and digests checked, manifest checked, data parsed. Nothing here
 * instantiates Wasm; that is the evaluator's job.
 */
import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { CreditgateError } from "../errors.js";
import type { BundleVerificationKey } from "./keys.js";
import { type BundleManifest, parseManifest, wasmModulePath } from "./manifest.js";
import { signaturesFile, verifyBundleSignature } from "./signature.js";
import { type ArchiveLimits, defaultArchiveLimits, readTarGz } from "./tar.js";

export interface LoadedBundle {
  readonly revision: string;
  /** sha256 of the archive bytes, `sha256:<hex>`: names the exact artifact a decision used. */
  readonly digest: string;
  readonly manifest: BundleManifest;
  readonly wasm: Uint8Array;
  readonly data: Readonly<Record<string, unknown>>;
  /** Key id that signed the bundle, or null when unsigned bundles were explicitly allowed. */
  readonly signedBy: string | null;
  readonly files: ReadonlyMap<string, Uint8Array>;
}

export interface BundleTrust {
  /** Required unless `allowUnsigned` is set. */
  readonly verificationKey?: BundleVerificationKey;
  /** Development only: accept bundles without `.signatures.json`. A present signature is still verified. */
  readonly allowUnsigned?: boolean;
  readonly limits?: ArchiveLimits;
}

export async function readBundleFile(path: string, trust: BundleTrust): Promise<LoadedBundle> {
  return readBundleBytes(await readBundleArchive(path, trust.limits), trust);
}

/** The archive bytes of a bundle file, size-capped, unverified. */
export async function readBundleArchive(
  path: string,
  caps: ArchiveLimits = defaultArchiveLimits,
): Promise<Uint8Array> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (cause) {
    throw new CreditgateError("BUNDLE_NOT_FOUND", { message: `no bundle at ${path}`, cause });
  }
  // Check the size before reading so an oversized file is never pulled into memory.
  if (size > caps.compressedBytesMax) {
    throw new CreditgateError("BUNDLE_TOO_LARGE", {
      message: `bundle ${path} is ${size} bytes, limit ${caps.compressedBytesMax}`,
      details: { sizeBytes: size, limitBytes: caps.compressedBytesMax },
    });
  }
  return readFile(path);
}

export async function readBundleBytes(
  archive: Uint8Array,
  trust: BundleTrust,
): Promise<LoadedBundle> {
  const files = readTarGz(archive, trust.limits ?? defaultArchiveLimits);

  let signedBy: string | null = null;
  if (files.has(signaturesFile) || !trust.allowUnsigned) {
    if (trust.verificationKey === undefined) {
      throw new CreditgateError("SIGNING_KEY_INVALID", {
        message: "no bundle verification key is configured",
      });
    }
    signedBy = (await verifyBundleSignature(files, trust.verificationKey)).keyId;
  }

  const manifest = parseManifest(files.get(".manifest"));
  const wasm = files.get(wasmModulePath);
  if (wasm === undefined) {
    throw new CreditgateError("BUNDLE_MALFORMED", { message: `bundle has no /${wasmModulePath}` });
  }
  let data: Record<string, unknown> = {};
  const dataBytes = files.get("data.json");
  if (dataBytes !== undefined) {
    try {
      data = JSON.parse(Buffer.from(dataBytes).toString("utf8")) as Record<string, unknown>;
    } catch (cause) {
      throw new CreditgateError("BUNDLE_MALFORMED", {
        message: "data.json is not valid JSON",
        cause,
      });
    }
    if (typeof data !== "object" || data === null || Array.isArray(data)) {
      throw new CreditgateError("BUNDLE_MALFORMED", { message: "data.json must hold an object" });
    }
  }
  const digest = `sha256:${createHash("sha256").update(archive).digest("hex")}`;
  return Object.freeze({
    revision: manifest.revision,
    digest,
    manifest,
    wasm,
    data: Object.freeze(data),
    signedBy,
    files,
  });
}
