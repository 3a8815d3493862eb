/** Bundle signing and verification keys, read from PEM files named by configuration. */
import { readFile } from "node:fs/promises";
import { type CryptoKey, importPKCS8, importSPKI } from "jose";
import { CreditgateError } from "../errors.js";

/** Asymmetric algorithms only: a shared secret would let every verifier forge bundles. */
const bundleSigningAlgorithms = ["ES256", "ES384", "ES512", "RS256", "PS256", "EdDSA"] as const;
export type BundleSigningAlgorithm = (typeof bundleSigningAlgorithms)[number];

export interface BundleVerificationKey {
  readonly keyId: string;
  readonly algorithm: BundleSigningAlgorithm;
  readonly key: CryptoKey;
  readonly scope?: string;
}

export interface BundleSigningKey {
  readonly keyId: string;
  readonly algorithm: BundleSigningAlgorithm;
  readonly key: CryptoKey;
}

/** The key id OPA writes when none is given; bundles built by `opa build` carry it. */
export const defaultBundleKeyId = "default";

function checkAlgorithm(algorithm: string): BundleSigningAlgorithm {
  if (!(bundleSigningAlgorithms as readonly string[]).includes(algorithm)) {
    throw new CreditgateError("SIGNING_KEY_INVALID", {
      message: `unsupported bundle signing algorithm "${algorithm}" (use one of ${bundleSigningAlgorithms.join(", ")})`,
    });
  }
  return algorithm as BundleSigningAlgorithm;
}

async function readPem(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (cause) {
    throw new CreditgateError("SIGNING_KEY_INVALID", {
      message: `cannot read key file ${path}`,
      cause,
    });
  }
}

export async function loadVerificationKey(options: {
  readonly publicKeyPath: string;
  readonly algorithm?: string;
  readonly keyId?: string;
  readonly scope?: string;
}): Promise<BundleVerificationKey> {
  const algorithm = checkAlgorithm(options.algorithm ?? "ES256");
  const pem = await readPem(options.publicKeyPath);
  try {
    const key = await importSPKI(pem, algorithm);
    return {
      keyId: options.keyId ?? defaultBundleKeyId,
      algorithm,
      key,
      ...(options.scope === undefined ? {} : { scope: options.scope }),
    };
  } catch (cause) {
    throw new CreditgateError("SIGNING_KEY_INVALID", {
      message: `${options.publicKeyPath} is not a ${algorithm} public key in SPKI PEM form`,
      cause,
    });
  }
}

export async function loadSigningKey(options: {
  readonly privateKeyPath: string;
  readonly algorithm?: string;
  readonly keyId?: string;
}): Promise<BundleSigningKey> {
  const algorithm = checkAlgorithm(options.algorithm ?? "ES256");
  const pem = await readPem(options.privateKeyPath);
  try {
    const key = await importPKCS8(pem, algorithm);
    return { keyId: options.keyId ?? defaultBundleKeyId, algorithm, key };
  } catch (cause) {
    throw new CreditgateError("SIGNING_KEY_INVALID", {
      message: `${options.privateKeyPath} is not a ${algorithm} private key in PKCS#8 PEM form`,
      cause,
    });
  }
}
