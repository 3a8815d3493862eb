/** The service configuration, as validated by schemas/config.schema.json. */

export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  readonly body_limit_bytes: number;
  readonly rate_limit: { readonly requests_per_second: number; readonly burst: number };
  readonly shutdown_grace_ms: number;
  readonly request_timeout_ms: number;
  readonly headers_timeout_ms: number;
  readonly keep_alive_timeout_ms: number;
  readonly idle_timeout_ms: number;
  readonly connections_max: number;
}

export interface StoreConfig {
  readonly kind: "sqlite" | "postgres";
  readonly sqlite?: { readonly path: string; readonly synchronous: "FULL" | "NORMAL" };
  readonly postgres?: { readonly url: string; readonly pool_size: number };
}

export interface PolicyConfig {
  readonly bundle: string;
  readonly public_key: string;
  readonly algorithm: "ES256" | "ES384" | "ES512" | "RS256" | "PS256" | "EdDSA";
  readonly allow_unsigned: boolean;
  readonly watch: boolean;
}

export interface IdentityConfig {
  /** Issuer entries, each validated by schemas/identity-issuer.schema.json. */
  readonly issuers: readonly Readonly<Record<string, unknown>>[];
  readonly dev_issuer: boolean;
  /** Admins carrying this role act on every tenant (default defaultPlatformAdminRole). */
  readonly platform_admin_role?: string;
}

export interface TasksConfig {
  readonly keys_file: string;
  readonly issuer: string;
  readonly audience: string;
  readonly ttl_seconds_default: number;
  readonly ttl_seconds_max: number;
  readonly key_publish_lead_seconds: number;
}

export interface AuditConfig {
  /** Each one of `maskablePaths` (src/audit/maskable.ts). */
  readonly mask_fields: readonly string[];
  readonly pseudonym_key_file: string;
}

export interface Config {
  readonly server: ServerConfig;
  readonly store: StoreConfig;
  readonly policy: PolicyConfig;
  readonly identity: IdentityConfig;
  readonly audit: AuditConfig;
  readonly holds: { readonly default_ttl_ms: number };
  readonly tasks: TasksConfig;
}
