/**
 * The first look at an untrusted token, before any key or signature is involved: size, compact
 * JWS shape, canonical base64url, JSON header and claims, and header members that are refused
 * whatever the issuer. Everything here is cheap and bounded, so hostile input is turned away
 * before it costs a signature check.
 */
import { CreditgateError } from "../errors.js";
import { limits } from "../limits.js";

export type JsonObject = Readonly<Record<string, unknown>>;

export interface DecodedToken {
  readonly header: JsonObject;
  /** Claims as sent; unverified until jwtVerify has checked the signature. */
  readonly claims: JsonObject;
}

// Signature may be empty here so that `alg: none` tokens are reported as a refused algorithm.
const compactJws = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Header members that carry or point to key material chosen by the sender: trusting any of them
 * lets the sender pick the key that verifies its own signature. `crit` would oblige us to honour
 * extensions we do not implement. None of them has a use with configured issuers.
 */
const refusedHeaderMembers = ["jwk", "jku", "x5u", "x5c", "crit"] as const;

function malformed(message: string): CreditgateError {
  return new CreditgateError("AUTH_TOKEN_MALFORMED", { message });
}

/**
 * Base64url must be canonical: Node's decoder ignores trailing bits in the last character, so
 * several encodings decode to the same bytes. Accepting them would let anyone mint new,
 * still-valid token strings from one token (distinct cache keys, distinct hashes in audit).
 */
function decodeSegment(segment: string, what: string): Buffer {
  const bytes = Buffer.from(segment, "base64url");
  if (bytes.toString("base64url") !== segment)
    throw malformed(`the token's ${what} is not canonical base64url`);
  return bytes;
}

function parseJsonObject(bytes: Buffer, what: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw malformed(`the token's ${what} is not JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw malformed(`the token's ${what} is not a JSON object`);
  }
  return value as JsonObject;
}

/** Decodes without verifying; refuses anything that is not a plausible signed JWT. */
export function decodeToken(token: string): DecodedToken {
  if (token.length === 0) throw new CreditgateError("AUTH_TOKEN_MISSING");
  if (token.length > limits.tokenBytesMax) {
    throw new CreditgateError("AUTH_TOKEN_TOO_LARGE", {
      message: `the bearer token exceeds ${limits.tokenBytesMax} bytes`,
    });
  }
  if (!compactJws.test(token)) throw malformed("the bearer token is not a compact JWS");
  const [headerPart = "", claimsPart = "", signaturePart = ""] = token.split(".");
  const header = parseJsonObject(decodeSegment(headerPart, "header"), "header");
  const claims = parseJsonObject(decodeSegment(claimsPart, "claims"), "claims");
  decodeSegment(signaturePart, "signature");
  checkHeader(header);
  return { header, claims };
}

/** Issuer-independent header rules; the issuer's own allowlist is applied by the verifier. */
function checkHeader(header: JsonObject): void {
  const alg = header.alg;
  if (typeof alg !== "string") {
    throw new CreditgateError("AUTH_TOKEN_INVALID", { message: "the token header has no alg" });
  }
  // "none" in any casing: some libraries once compared case-insensitively.
  if (alg.toLowerCase() === "none") {
    throw new CreditgateError("AUTH_TOKEN_INVALID", {
      message: "unsecured tokens (alg none) are refused",
    });
  }
  for (const member of refusedHeaderMembers) {
    if (Object.hasOwn(header, member)) {
      throw new CreditgateError("AUTH_TOKEN_INVALID", {
        message: `tokens with a "${member}" header are refused`,
        details: { header: member },
      });
    }
  }
  if (header.kid !== undefined && typeof header.kid !== "string") {
    throw new CreditgateError("AUTH_TOKEN_INVALID", { message: "the token's kid is not a string" });
  }
}
