/**
 * Trusted issuer configuration: validated by schemas/identity-issuer.schema.json, defaults
 * applied, frozen. Everything about an issuer that the verifier trusts is decided here, once,
 * at start-up; a bad entry stops the service instead of weakening verification.
 */
import { CreditgateError } from "../errors.js";
import { limits } from "../limits.js";
import { formatViolations, validate } from "../schema-registry.js";

export const issuerAlgorithms = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
] as const;
export type IssuerAlgorithm = (typeof issuerAlgorithms)[number];

/** A public JWK as it appears in a JWKS; private members are refused by the schema. */
export interface PublicJwk {
  readonly kty: "RSA" | "EC" | "OKP";
  readonly kid?: string;
  readonly [member: string]: unknown;
}

export interface Jwks {
  readonly keys: readonly PublicJwk[];
}

/** Which claim holds each principal field (top-level name first, then dotted path). */
export interface ClaimMapping {
  readonly id?: string;
  readonly tenant?: string;
  readonly plan?: string;
  readonly roles?: string;
  readonly scopes?: string;
}

/** One trusted issuer, in the configuration's own (snake_case) shape. */
export interface IssuerConfig {
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly jwks_url?: string;
  readonly jwks_file?: string;
  readonly jwks?: Jwks;
  readonly algorithms: readonly IssuerAlgorithm[];
  readonly principal_kind: "user" | "workload";
  readonly typ?: string;
  readonly max_token_age_seconds: number;
  readonly clock_tolerance_seconds: number;
  readonly admin?: boolean;
  readonly claims?: ClaimMapping;
}

export const defaultClaimMapping = {
  id: "sub",
  tenant: "tenant",
  plan: "plan",
  roles: "roles",
  scopes: "scope",
} as const satisfies Required<ClaimMapping>;

/** An issuer with its defaults applied; what the verifier works from. */
export interface Issuer extends IssuerConfig {
  readonly claims: Required<ClaimMapping>;
  readonly admin: boolean;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}

/**
 * Validates every issuer and collects all problems into one CONFIG_INVALID, so an operator
 * fixes the whole list in one go. Returns frozen copies with defaults applied.
 */
export function parseIssuerConfigs(values: readonly unknown[]): readonly Issuer[] {
  const problems: string[] = [];
  if (values.length === 0) problems.push("at least one trusted issuer is required");
  if (values.length > limits.trustedIssuersMax) {
    problems.push(`at most ${limits.trustedIssuersMax} trusted issuers are allowed`);
  }
  const seen = new Set<string>();
  const issuers: Issuer[] = [];
  values.forEach((value, index) => {
    const violations = validate("identity-issuer", value);
    if (violations.length > 0) {
      problems.push(`issuers[${index}]: ${formatViolations(violations)}`);
      return;
    }
    const config = structuredClone(value) as IssuerConfig;
    // Routing is by exact `iss`; two entries for one issuer would make the choice arbitrary.
    if (seen.has(config.issuer))
      problems.push(`issuers[${index}]: duplicate issuer ${config.issuer}`);
    seen.add(config.issuer);
    issuers.push(
      deepFreeze({
        ...config,
        admin: config.admin === true,
        claims: { ...defaultClaimMapping, ...config.claims },
      }),
    );
  });
  if (problems.length > 0) {
    throw new CreditgateError("CONFIG_INVALID", {
      message: `trusted issuers are invalid: ${problems.join("; ")}`,
      details: { problems },
    });
  }
  return Object.freeze(issuers);
}
