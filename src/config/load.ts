/**
 * Configuration: defaults, then the YAML file, then environment overrides; validated once by
 * schemas/config.schema.json with every problem reported together, paths resolved, frozen.
 * The defaults alone run the service on one machine: SQLite under ./data, the committed bundle
 * and the development issuer.
 */
import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import { parse } from "yaml";
import { isMaskablePath, maskablePaths } from "../audit/maskable.js";
import { CreditgateError } from "../errors.js";
import { limits } from "../limits.js";
import { packageRoot } from "../paths.js";
import { formatViolations, type SchemaViolation, validate } from "../schema-registry.js";
import type { Config } from "./types.js";

export const defaultConfig: Config = {
  server: {
    host: "127.0.0.1",
    port: 8080,
    body_limit_bytes: 65_536,
    rate_limit: { requests_per_second: 0, burst: 0 },
    shutdown_grace_ms: 10_000,
    request_timeout_ms: limits.requestTimeoutMs,
    headers_timeout_ms: limits.headersTimeoutMs,
    keep_alive_timeout_ms: limits.keepAliveTimeoutMs,
    idle_timeout_ms: limits.idleTimeoutMs,
    connections_max: limits.connectionsMax,
  },
  store: { kind: "sqlite", sqlite: { path: "data/creditgate.db", synchronous: "FULL" } },
  policy: {
    bundle: resolve(packageRoot, "bundles/creditgate.tar.gz"),
    public_key: resolve(packageRoot, "keys/dev/bundle-signing.pub.pem"),
    algorithm: "ES256",
    allow_unsigned: false,
    watch: true,
  },
  identity: { issuers: [], dev_issuer: true },
  audit: { mask_fields: [], pseudonym_key_file: "data/pseudonym-key" },
  holds: { default_ttl_ms: 300_000 },
  tasks: {
    keys_file: "data/task-keys.json",
    issuer: "urn:creditgate:tasks",
    audience: "creditgate-task",
    ttl_seconds_default: 900,
    ttl_seconds_max: 3_600,
    key_publish_lead_seconds: 600,
  },
};

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface EnvOverride {
  readonly variable: string;
  readonly path: readonly string[];
  readonly type: "string" | "integer" | "boolean";
}

/** Each variable sets one field; later entries win (CREDITGATE_PORT over PORT). */
export const envOverrides: readonly EnvOverride[] = [
  { variable: "PORT", path: ["server", "port"], type: "integer" },
  { variable: "CREDITGATE_PORT", path: ["server", "port"], type: "integer" },
  { variable: "CREDITGATE_HOST", path: ["server", "host"], type: "string" },
  { variable: "CREDITGATE_STORE", path: ["store", "kind"], type: "string" },
  { variable: "CREDITGATE_SQLITE_PATH", path: ["store", "sqlite", "path"], type: "string" },
  { variable: "CREDITGATE_POSTGRES_URL", path: ["store", "postgres", "url"], type: "string" },
  { variable: "CREDITGATE_BUNDLE", path: ["policy", "bundle"], type: "string" },
  { variable: "CREDITGATE_BUNDLE_PUBLIC_KEY", path: ["policy", "public_key"], type: "string" },
  { variable: "CREDITGATE_DEV_ISSUER", path: ["identity", "dev_issuer"], type: "boolean" },
];

function isObject(value: unknown): value is { [key: string]: Json } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Objects merge key by key; arrays and scalars replace. */
function merge(base: Json, override: Json): Json {
  if (!isObject(base) || !isObject(override)) return override;
  const out: { [key: string]: Json } = { ...base };
  for (const [key, value] of Object.entries(override)) {
    out[key] = key in out ? merge(out[key] as Json, value) : value;
  }
  return out;
}

function setPath(target: { [key: string]: Json }, path: readonly string[], value: Json): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (!isObject(node[key])) node[key] = {};
    node = node[key] as { [key: string]: Json };
  }
  node[path[path.length - 1] as string] = value;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Every `audit.mask_fields` entry that is not a maskable path, named (the schema checks shape). */
function maskViolations(merged: { [key: string]: Json }): SchemaViolation[] {
  const fields = isObject(merged.audit) ? merged.audit.mask_fields : undefined;
  if (!Array.isArray(fields)) return [];
  const out: SchemaViolation[] = [];
  fields.forEach((field, index) => {
    if (typeof field === "string" && !isMaskablePath(field)) {
      out.push({
        path: `/audit/mask_fields/${index}`,
        message: `"${field}" is not a maskable path (one of ${maskablePaths.join(", ")})`,
      });
    }
  });
  return out;
}

/** What one schema cannot say: settings bounded by each other. */
function relations(config: { [key: string]: Json }): SchemaViolation[] {
  const server = config.server;
  if (!isObject(server)) return [];
  const { headers_timeout_ms: headers, request_timeout_ms: request } = server;
  if (typeof headers === "number" && typeof request === "number" && headers > request) {
    // Node refuses it: the request timeout covers the headers too.
    return [
      {
        path: "/server/headers_timeout_ms",
        message: `must be at most server.request_timeout_ms (${request})`,
      },
    ];
  }
  return [];
}

export interface LoadConfigOptions {
  readonly file?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
}

export async function loadConfig(options: LoadConfigOptions = {}): Promise<Config> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const file = options.file ?? env.CREDITGATE_CONFIG;
  const violations: SchemaViolation[] = [];

  let fromFile: Json = {};
  if (file !== undefined && file !== "") {
    try {
      fromFile = (parse(await readFile(resolve(cwd, file), "utf8")) ?? {}) as Json;
    } catch (cause) {
      throw new CreditgateError("CONFIG_INVALID", {
        message: `cannot read configuration ${file}: ${(cause as Error).message}`,
        cause,
      });
    }
    if (!isObject(fromFile))
      violations.push({ path: "", message: "the configuration file must hold a mapping" });
  }

  const merged = merge(
    structuredClone(defaultConfig) as unknown as Json,
    isObject(fromFile) ? fromFile : {},
  ) as {
    [key: string]: Json;
  };
  for (const override of envOverrides) {
    const raw = env[override.variable];
    if (raw === undefined || raw === "") continue;
    let value: Json = raw;
    if (override.type === "integer") {
      value = /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
      if (Number.isNaN(value)) {
        violations.push({
          path: `$${override.variable}`,
          message: `must be an integer, got "${raw}"`,
        });
        continue;
      }
    } else if (override.type === "boolean") {
      if (raw !== "true" && raw !== "false") {
        violations.push({
          path: `$${override.variable}`,
          message: `must be true or false, got "${raw}"`,
        });
        continue;
      }
      value = raw === "true";
    }
    setPath(merged, override.path, value);
  }
  // Choosing postgres by URL alone should not also demand the pool size.
  if (
    isObject(merged.store) &&
    isObject(merged.store.postgres) &&
    merged.store.postgres.pool_size === undefined
  ) {
    merged.store.postgres.pool_size = 10;
  }

  violations.push(...validate("config", merged), ...maskViolations(merged));
  violations.push(...relations(merged));
  if (violations.length > 0) {
    throw new CreditgateError("CONFIG_INVALID", {
      message: `configuration is invalid${file ? ` (${file})` : ""}: ${formatViolations(violations)}`,
      details: { violations },
    });
  }

  const config = merged as unknown as Config;
  const base = file ? dirname(resolve(cwd, file)) : cwd;
  const at = (path: string) => (isAbsolute(path) ? path : resolve(base, path));
  const resolved: Config = {
    ...config,
    store: {
      ...config.store,
      ...(config.store.sqlite
        ? { sqlite: { ...config.store.sqlite, path: at(config.store.sqlite.path) } }
        : {}),
    },
    policy: {
      ...config.policy,
      bundle: at(config.policy.bundle),
      public_key: at(config.policy.public_key),
    },
    tasks: { ...config.tasks, keys_file: at(config.tasks.keys_file) },
    audit: { ...config.audit, pseudonym_key_file: at(config.audit.pseudonym_key_file) },
  };
  return deepFreeze(resolved);
}
