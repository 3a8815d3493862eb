/**
 * Signature and registered-claim verification with jose, and the translation of jose's
 * failures into stable AUTH_* codes. Messages name the failed check, never the token.
 */
import { errors as joseErrors, jwtVerify } from "jose";
import { CreditgateError, type ErrorCode } from "../errors.js";
import { type Issuer, normalizeTyp, taskTokenType } from "./issuer-config.js";
import type { KeyResolver } from "./keys.js";
import type { DecodedToken, JsonObject } from "./token-format.js";

/** Which code a failed registered-claim check maps to. */
function claimFailureCode(claim: string, reason: string): ErrorCode {
  if (reason === "invalid" || reason === "missing") {
    return claim === "iss"
      ? "AUTH_ISSUER_UNKNOWN"
      : claim === "aud"
        ? "AUTH_AUDIENCE_MISMATCH"
        : "AUTH_CLAIMS_INVALID";
  }
  switch (claim) {
    case "nbf":
    case "iat": // iat in the future: the token claims to be issued later than now
      return "AUTH_TOKEN_NOT_YET_VALID";
    case "aud":
      return "AUTH_AUDIENCE_MISMATCH";
    case "iss":
      return "AUTH_ISSUER_UNKNOWN";
    case "typ":
      return "AUTH_TOKEN_INVALID";
    default:
      return "AUTH_CLAIMS_INVALID";
  }
}

/** A NumericDate claim (seconds) as RFC 3339; a value no Date can hold is shown as given. */
function when(seconds: unknown): string {
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || Math.abs(seconds) > 8.64e12) {
    return String(seconds).slice(0, 32);
  }
  return new Date(Math.floor(seconds) * 1000).toISOString().replace(".000Z", "Z");
}

/**
 * A readable message for a failed registered-claim check, instead of jose's ('"exp" claim
 * timestamp check failed'). It names the claim and, for times, when; never the token.
 */
function claimMessage(
  error: InstanceType<typeof joseErrors.JWTClaimValidationFailed>,
  issuer: Issuer,
): string {
  const { claim, reason, payload } = error;
  if (reason === "missing")
    return `the token has no ${claim} claim, which issuer ${issuer.issuer} requires`;
  if (reason === "invalid")
    return `the token's ${claim} claim must be a number of seconds since the epoch`;
  switch (claim) {
    case "exp":
      return `the token expired at ${when(payload.exp)}`;
    case "nbf":
      return `the token is not valid before ${when(payload.nbf)}`;
    case "iat":
      return error instanceof joseErrors.JWTExpired
        ? `the token was issued at ${when(payload.iat)}, more than ${issuer.max_token_age_seconds} seconds ago (the issuer's max_token_age_seconds)`
        : `the token claims to be issued at ${when(payload.iat)}, in the future`;
    case "aud":
      return `the token's aud names none of the audiences issuer ${issuer.issuer} accepts`;
    case "iss":
      return `the token's iss is not ${issuer.issuer}`;
    case "typ":
      return `the token's typ header is not ${issuer.typ ?? "the one this issuer requires"}`;
    default:
      return `the token's ${claim} claim is not accepted`;
  }
}

function translate(error: unknown, issuer: Issuer): unknown {
  if (error instanceof CreditgateError) return error; // from the key resolver
  if (!(error instanceof joseErrors.JOSEError)) return error; // a bug: let it crash loudly
  const details = { reason: error.code };
  if (error instanceof joseErrors.JWTExpired) {
    // exp in the past, or iat older than max_token_age_seconds: both mean "too old".
    return new CreditgateError("AUTH_TOKEN_EXPIRED", {
      message: claimMessage(error, issuer),
      details: { ...details, claim: error.claim },
    });
  }
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    return new CreditgateError(claimFailureCode(error.claim, error.reason), {
      message: claimMessage(error, issuer),
      details: { ...details, claim: error.claim },
    });
  }
  if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid) {
    return new CreditgateError("AUTH_TOKEN_MALFORMED", { message: error.message, details });
  }
  if (error instanceof joseErrors.JWKSNoMatchingKey) {
    return new CreditgateError("AUTH_TOKEN_INVALID", {
      message: "no key of the issuer matches the token's kid and alg",
      details,
    });
  }
  // Signature failures, refused algorithms, several matching keys, unsupported features.
  return new CreditgateError("AUTH_TOKEN_INVALID", { message: error.message, details });
}

/**
 * Verifies the signature with the issuer's keys and the registered claims against the issuer's
 * rules at `nowMs`. Returns the verified claims; every refusal is a CreditgateError.
 */
export async function verifySignedToken(
  token: string,
  decoded: DecodedToken,
  issuer: Issuer,
  resolveKey: KeyResolver,
  nowMs: number,
): Promise<JsonObject> {
  const alg = decoded.header.alg;
  // Checked before jose too, so the refusal does not depend on what the JWKS happens to hold.
  if (typeof alg !== "string" || !(issuer.algorithms as readonly string[]).includes(alg)) {
    throw new CreditgateError("AUTH_TOKEN_INVALID", {
      message: `alg ${JSON.stringify(alg)} is not allowed for issuer ${issuer.issuer}`,
    });
  }
  // The task typ belongs to the task issuer alone (which requires it through issuer.typ below).
  const typ = decoded.header.typ;
  if (
    issuer.principal_kind !== "task" &&
    typeof typ === "string" &&
    normalizeTyp(typ) === taskTokenType
  ) {
    throw new CreditgateError("AUTH_TOKEN_INVALID", {
      message: `typ ${taskTokenType} is accepted only from the task issuer`,
    });
  }
  try {
    const { payload } = await jwtVerify(token, resolveKey, {
      algorithms: [...issuer.algorithms],
      issuer: issuer.issuer,
      audience: [...issuer.audiences],
      requiredClaims: ["exp", "iat", "sub"],
      clockTolerance: issuer.clock_tolerance_seconds,
      maxTokenAge: issuer.max_token_age_seconds,
      currentDate: new Date(nowMs),
      ...(issuer.typ === undefined ? {} : { typ: issuer.typ }),
    });
    return payload as JsonObject;
  } catch (error) {
    throw translate(error, issuer);
  }
}
