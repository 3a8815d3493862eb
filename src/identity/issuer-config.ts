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

/**
 * The JOSE `typ` of task tokens, which creditgate signs itself (src/tasks/). Only the task issuer
 * may use it and the task issuer accepts nothing else, so a task token can never pass as a user
 * or workload token, nor the other way round.
 */
export const taskTokenType = "creditgate-task+jwt";

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
  /** "task" only for creditgate's own task issuer, never from configuration (the schema refuses it). */
  readonly principal_kind: "user" | "workload" | "task";
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

/** jose compares `typ` lower-cased and without an "application/" prefix; so do we. */
export function normalizeTyp(typ: string): string {
  return typ.toLowerCase().replace(/^application\//, "");
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The task issuer is built by creditgate from its `tasks` configuration, not by an operator, so
 * it is checked here rather than by the schema (which refuses principal_kind "task"): its rules
 * are fixed, and its keys come from the key resolver factory, never from a key source member.
 */
function taskIssuerProblems(value: Readonly<Record<string, unknown>>): string[] {
  const problems: string[] = [];
  const allowed = new Set([
    "issuer",
    "audiences",
    "algorithms",
    "principal_kind",
    "typ",
    "max_token_age_seconds",
    "clock_tolerance_seconds",
  ]);
  for (const member of Object.keys(value)) {
    if (!allowed.has(member)) problems.push(`the task issuer may not set ${member}`);
  }
  const { issuer, audiences, algorithms, typ, max_token_age_seconds, clock_tolerance_seconds } =
    value;
  if (typeof issuer !== "string" || issuer.length === 0 || issuer.length > 512) {
    problems.push("issuer must be a string of 1 to 512 characters");
  }
  if (
    !Array.isArray(audiences) ||
    audiences.length !== 1 ||
    typeof audiences[0] !== "string" ||
    audiences[0].length === 0 ||
    audiences[0].length > 512
  ) {
    problems.push("audiences must hold exactly one audience");
  }
  if (!Array.isArray(algorithms) || algorithms.length !== 1 || algorithms[0] !== "EdDSA") {
    problems.push('algorithms must be ["EdDSA"]');
  }
  if (typ !== taskTokenType) problems.push(`typ must be ${taskTokenType}`);
  if (
    !Number.isInteger(max_token_age_seconds) ||
    (max_token_age_seconds as number) < 1 ||
    (max_token_age_seconds as number) > limits.tokenMaxAgeSecondsMax
  ) {
    problems.push(`max_token_age_seconds must be 1 to ${limits.tokenMaxAgeSecondsMax}`);
  }
  if (
    !Number.isInteger(clock_tolerance_seconds) ||
    (clock_tolerance_seconds as number) < 0 ||
    (clock_tolerance_seconds as number) > limits.tokenClockToleranceSecondsMax
  ) {
    problems.push(`clock_tolerance_seconds must be 0 to ${limits.tokenClockToleranceSecondsMax}`);
  }
  return problems;
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
  let taskIssuers = 0;
  values.forEach((value, index) => {
    const isTask = isRecord(value) && value.principal_kind === "task";
    if (isTask) {
      const taskProblems = taskIssuerProblems(value);
      if (++taskIssuers > 1) taskProblems.push("there is already a task issuer");
      if (taskProblems.length > 0) {
        // Named so that a configured issuer posing as the task issuer reads as what it is.
        problems.push(
          `issuers[${index}]: principal_kind "task" is creditgate's own task issuer: ${taskProblems.join("; ")}`,
        );
        return;
      }
    } else {
      const violations = validate("identity-issuer", value);
      if (violations.length > 0) {
        problems.push(`issuers[${index}]: ${formatViolations(violations)}`);
        return;
      }
    }
    const config = structuredClone(value) as IssuerConfig;
    // The task typ is reserved: another issuer accepting it would blur which tokens are tasks.
    if (!isTask && config.typ !== undefined && normalizeTyp(config.typ) === taskTokenType) {
      problems.push(`issuers[${index}]: typ ${taskTokenType} is reserved for the task issuer`);
    }
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
