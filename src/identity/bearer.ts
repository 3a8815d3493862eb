/** The `Authorization: Bearer <token>` header (RFC 6750), reduced to the token or a stable code. */
import { CreditgateError } from "../errors.js";
import { limits } from "../limits.js";

// The auth scheme is case-insensitive (RFC 9110 §11.1); the token is b64token (RFC 6750 §2.1).
const bearer = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

export function parseBearer(headerValue: string | undefined): string {
  if (headerValue === undefined || headerValue.trim().length === 0) {
    throw new CreditgateError("AUTH_TOKEN_MISSING");
  }
  // Bounded before the regex runs, so a huge header costs nothing to refuse.
  if (headerValue.length > limits.tokenBytesMax + 64) {
    throw new CreditgateError("AUTH_TOKEN_TOO_LARGE", {
      message: `the bearer token exceeds ${limits.tokenBytesMax} bytes`,
    });
  }
  const match = bearer.exec(headerValue);
  if (match === null) {
    throw new CreditgateError("AUTH_TOKEN_MALFORMED", {
      message: "the Authorization header is not `Bearer <token>`",
    });
  }
  return match[1]!;
}
