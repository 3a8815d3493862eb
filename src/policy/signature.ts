/**
 * OPA's bundle-signing format (`.signatures.json`): one compact JWS whose payload lists every
 * bundle file with its digest. Structured documents (data.json, .manifest) are hashed over a
 * canonical form (keys sorted, Go's JSON encoding of primitives), everything else over its bytes,
 * so a bundle signed by `opa build --signing-key` verifies here and one signed here verifies in OPA.
 */
import { createHash } from "node:crypto";
import { CompactSign, compactVerify, errors as joseErrors } from "jose";
import { CreditgateError } from "../errors.js";
import type { BundleSigningKey, BundleVerificationKey } from "./keys.js";

export const signaturesFile = ".signatures.json";

const hashAlgorithms: Readonly<Record<string, string>> = {
  "SHA-256": "sha256",
  "SHA-384": "sha384",
  "SHA-512": "sha512",
};

export interface SignedFile {
  readonly name: string;
  readonly hash: string;
  readonly algorithm: string;
}

interface SignaturePayload {
  readonly files: readonly SignedFile[];
  readonly keyid?: string;
  readonly scope?: string;
}

function isStructuredDocument(path: string): boolean {
  const base = path.slice(path.lastIndexOf("/") + 1);
  return base === "data.json" || base === ".manifest";
}

/** Go's encoding/json escapes U+2028 and U+2029, JSON.stringify does not. */
function encodeString(value: string): string {
  return JSON.stringify(value)
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

function canonicalJson(value: unknown, path: string): string {
  if (value === null || typeof value === "boolean") return JSON.stringify(value);
  if (typeof value === "string") return encodeString(value);
  if (typeof value === "number") {
    // OPA hashes a number by its literal text; only integers survive a JSON.parse round trip intact.
    if (!Number.isSafeInteger(value)) {
      throw new CreditgateError("BUNDLE_MALFORMED", {
        message: `${path}: only integer numbers are supported in signed JSON documents`,
      });
    }
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item, path)).join(",")}]`;
  if (typeof value === "object") {
    const record = value as Record<string, unknown>;
    // Go sorts map keys by byte order; for the ASCII keys of bundles that is code-unit order.
    const keys = Object.keys(record).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${keys.map((key) => `${encodeString(key)}:${canonicalJson(record[key], path)}`).join(",")}}`;
  }
  throw new CreditgateError("BUNDLE_MALFORMED", { message: `${path}: unsupported JSON value` });
}

/** The digest OPA records for a bundle file, as lowercase hex. */
export function bundleFileDigest(path: string, bytes: Uint8Array, algorithm = "SHA-256"): string {
  const nodeAlgorithm = hashAlgorithms[algorithm];
  if (nodeAlgorithm === undefined) {
    throw new CreditgateError("BUNDLE_SIGNATURE_INVALID", {
      message: `${path}: unsupported digest algorithm "${algorithm}"`,
    });
  }
  const hash = createHash(nodeAlgorithm);
  if (isStructuredDocument(path)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(bytes).toString("utf8"));
    } catch (cause) {
      throw new CreditgateError("BUNDLE_MALFORMED", { message: `${path}: invalid JSON`, cause });
    }
    hash.update(canonicalJson(parsed, path));
  } else {
    hash.update(bytes);
  }
  return hash.digest("hex");
}

function parseSignatures(bytes: Uint8Array): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (cause) {
    throw new CreditgateError("BUNDLE_SIGNATURE_INVALID", {
      message: `${signaturesFile} is not valid JSON`,
      cause,
    });
  }
  const signatures = (parsed as { signatures?: unknown }).signatures;
  if (!Array.isArray(signatures) || signatures.length !== 1 || typeof signatures[0] !== "string") {
    throw new CreditgateError("BUNDLE_SIGNATURE_INVALID", {
      message: `${signaturesFile} must hold exactly one signature`,
    });
  }
  return signatures[0];
}

function parsePayload(bytes: Uint8Array): SignaturePayload {
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (cause) {
    throw new CreditgateError("BUNDLE_SIGNATURE_INVALID", {
      message: "signature payload is not JSON",
      cause,
    });
  }
  const files = (payload as { files?: unknown }).files;
  const wellFormed =
    Array.isArray(files) &&
    files.every(
      (file: unknown) =>
        typeof file === "object" &&
        file !== null &&
        typeof (file as SignedFile).name === "string" &&
        typeof (file as SignedFile).hash === "string" &&
        typeof (file as SignedFile).algorithm === "string",
    );
  if (!wellFormed) {
    throw new CreditgateError("BUNDLE_SIGNATURE_INVALID", {
      message: "signature payload must list files with name, hash and algorithm",
    });
  }
  return payload as SignaturePayload;
}

export interface VerifiedSignature {
  readonly keyId: string;
  readonly files: readonly SignedFile[];
}

/**
 * Verifies the signature over a bundle's files and that the signed file list is exactly the
 * set of files in the bundle, each with a matching digest. Throws a CreditgateError otherwise.
 */
export async function verifyBundleSignature(
  files: ReadonlyMap<string, Uint8Array>,
  key: BundleVerificationKey,
): Promise<VerifiedSignature> {
  const signatures = files.get(signaturesFile);
  if (signatures === undefined) {
    throw new CreditgateError("BUNDLE_UNSIGNED", { message: `bundle has no ${signaturesFile}` });
  }
  const token = parseSignatures(signatures);
  let verified: Awaited<ReturnType<typeof compactVerify>>;
  try {
    verified = await compactVerify(token, key.key, { algorithms: [key.algorithm] });
  } catch (cause) {
    const reason = cause instanceof joseErrors.JOSEError ? cause.code : "invalid JWS";
    throw new CreditgateError("BUNDLE_SIGNATURE_INVALID", {
      message: `bundle signature does not verify with key "${key.keyId}" (${reason})`,
      cause,
    });
  }
  const headerKeyId = verified.protectedHeader.kid;
  if (headerKeyId !== undefined && headerKeyId !== key.keyId) {
    throw new CreditgateError("BUNDLE_SIGNATURE_INVALID", {
      message: `bundle was signed with key id "${headerKeyId}", expected "${key.keyId}"`,
    });
  }
  const payload = parsePayload(verified.payload);
  if (key.scope !== undefined && payload.scope !== key.scope) {
    throw new CreditgateError("BUNDLE_SIGNATURE_INVALID", {
      message: "bundle signature scope mismatch",
    });
  }

  const signed = new Map(payload.files.map((file) => [file.name.replace(/^\/+/, ""), file]));
  for (const [path, bytes] of files) {
    if (path === signaturesFile) continue;
    const entry = signed.get(path);
    if (entry === undefined) {
      throw new CreditgateError("BUNDLE_DIGEST_MISMATCH", {
        message: `${path} is not covered by the bundle signature`,
        details: { file: path },
      });
    }
    if (bundleFileDigest(path, bytes, entry.algorithm) !== entry.hash.toLowerCase()) {
      throw new CreditgateError("BUNDLE_DIGEST_MISMATCH", {
        message: `${path} does not match its signed digest`,
        details: { file: path },
      });
    }
    signed.delete(path);
  }
  if (signed.size > 0) {
    const missing = [...signed.keys()];
    throw new CreditgateError("BUNDLE_DIGEST_MISMATCH", {
      message: `signed files missing from the bundle: ${missing.join(", ")}`,
      details: { files: missing },
    });
  }
  return { keyId: key.keyId, files: payload.files };
}

/** Produces `.signatures.json` content for the given files (all but an existing signature). */
export async function signBundleFiles(
  files: ReadonlyMap<string, Uint8Array>,
  key: BundleSigningKey,
): Promise<Uint8Array> {
  const listed: SignedFile[] = [];
  for (const [path, bytes] of files) {
    if (path === signaturesFile) continue;
    listed.push({ name: path, hash: bundleFileDigest(path, bytes), algorithm: "SHA-256" });
  }
  const payload: SignaturePayload = { files: listed, keyid: key.keyId };
  const token = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: key.algorithm, kid: key.keyId, typ: "JWT" })
    .sign(key.key);
  return new TextEncoder().encode(JSON.stringify({ signatures: [token] }));
}
