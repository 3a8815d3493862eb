/** The identity layer's public types: what a verified token turns into. */

/** Who acts: people (IdP tokens), services and agents (workload tokens), agent tasks (minted by creditgate). */
export type PrincipalKind = "user" | "workload" | "task";

/** A principal as the policy sees it: every field comes from a verified token, never from the request. */
export interface Principal {
  readonly kind: PrincipalKind;
  readonly id: string;
  readonly tenant: string;
  readonly plan: string;
  readonly roles: readonly string[];
  readonly scopes: readonly string[];
}

/** What a task token carries about its task; see src/tasks/. */
export interface TaskCredential {
  /** The task id; equal to the principal id. */
  readonly id: string;
  /** The hold that reserves the task's budget. */
  readonly holdId: string;
  /** Credits the task may spend (the hold's amount). */
  readonly budget: number;
  /** The principal that started the task (the token's `act` claim). */
  readonly parent: {
    readonly id: string;
    readonly kind: PrincipalKind;
    readonly issuer: string;
    /** The parent token's `jti`, when it had one: revoking that token stops the task too. */
    readonly jti?: string;
  };
}

/** A principal plus what the service needs about the token it came from. */
export interface VerifiedPrincipal extends Principal {
  /** The token's `jti`, when it has one: the handle for revoking this one token. */
  readonly jti?: string;
  /** The token's `exp` in epoch milliseconds. */
  readonly expMs: number;
  /** The `iss` the token was verified against. */
  readonly issuer: string;
  /** Hex SHA-256 of the token: safe to log and to key caches by, unlike the token itself. */
  readonly tokenHash: string;
  /** Present exactly when kind is "task". */
  readonly task?: TaskCredential;
}

/** What a revocation check is asked about; any match refuses the token. */
export interface RevocationQuery {
  readonly jti?: string;
  readonly principalId: string;
  /** For a task: the principal that started it; revoking that principal stops its tasks too. */
  readonly parentId?: string;
  /** For a task: the token it was minted with; revoking that token stops the task too. */
  readonly parentJti?: string;
  readonly tenant: string;
  readonly issuer: string;
  readonly kind: PrincipalKind;
}

/** Consulted on every authentication, cache hit or not, so a revocation takes effect on the next call. */
export type RevocationCheck = (query: RevocationQuery) => boolean | Promise<boolean>;

/**
 * Which tenants an admin may act on: its token's tenant, or every tenant for a platform admin
 * (one that also carries the platform admin role).
 */
export type AdminScope =
  | { readonly kind: "tenant"; readonly tenant: string }
  | { readonly kind: "platform" };
