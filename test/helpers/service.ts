/**
 * A real creditgate service for tests: SQLite in a temp directory, the committed signed bundle,
 * the development issuers, listening on a free port. Tokens come from the development issuer
 * unless a test configures its own issuers.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Clock } from "../../src/clock.js";
import { loadConfig } from "../../src/config/load.js";
import type { Config } from "../../src/config/types.js";
import { mintDevToken } from "../../src/identity/index.js";
import { createService, type Service } from "../../src/service/service.js";

export interface TestService {
  readonly url: string;
  readonly service: Service;
  readonly dir: string;
  readonly config: Config;
  /** A development-issuer user token for `tenant` on `plan`. */
  userToken(options?: {
    sub?: string;
    tenant?: string;
    plan?: string;
    scopes?: string[];
  }): Promise<string>;
  /** A development-issuer platform admin token: it administers every tenant. */
  adminToken(): Promise<string>;
  /** A development-issuer admin token of `tenant` (no platform role): that tenant only. */
  tenantAdminToken(tenant: string, options?: { sub?: string }): Promise<string>;
  /** fetch against the service with JSON in and out. */
  request(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; body: unknown; text: string; headers: Headers }>;
  /** Grants through the admin API. */
  grant(tenant: string, cls: string, amount: number): Promise<void>;
  close(): Promise<void>;
}

export interface TestServiceOptions {
  readonly clock?: Clock;
  /** Adjusts the configuration (already pointing at a temp SQLite and the committed bundle). */
  readonly configure?: (config: Config, dir: string) => Config | Promise<Config>;
}

export async function startTestService(options: TestServiceOptions = {}): Promise<TestService> {
  const dir = await mkdtemp(join(tmpdir(), "creditgate-service-"));
  const defaults = await loadConfig({ env: {}, cwd: dir });
  const base: Config = {
    ...defaults,
    server: { ...defaults.server, port: 0, rate_limit: { requests_per_second: 0, burst: 0 } },
    store: { kind: "sqlite", sqlite: { path: join(dir, "ledger.db"), synchronous: "FULL" } },
    policy: { ...defaults.policy, watch: false },
  };
  let service: Service;
  let config: Config = base;
  try {
    if (options.configure !== undefined) config = await options.configure(base, dir);
    service = await createService(config, {
      ...(options.clock === undefined ? {} : { clock: options.clock }),
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const url = await service.listen(0, "127.0.0.1");
  const clock = options.clock;

  const request: TestService["request"] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
    let payload: string | undefined;
    if (opts.body !== undefined) {
      headers["content-type"] ??= "application/json";
      payload = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
    }
    const response = await fetch(`${url}${path}`, {
      method,
      headers,
      ...(payload === undefined ? {} : { body: payload }),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON (e.g. /metrics): the text is the body.
    }
    return { status: response.status, body, text, headers: response.headers };
  };

  let admin: Promise<string> | undefined;
  const testService: TestService = {
    url,
    service,
    dir,
    config,
    userToken: (o = {}) =>
      mintDevToken(
        {
          sub: o.sub ?? "usr_1",
          tenant: o.tenant ?? "acme",
          plan: o.plan ?? "pro",
          ...(o.scopes === undefined ? {} : { scopes: o.scopes }),
        },
        clock,
      ),
    adminToken: () => {
      admin ??= mintDevToken(
        { sub: "ops", tenant: "ops", plan: "enterprise", admin: true, platform: true },
        clock,
      );
      return admin;
    },
    tenantAdminToken: (tenant, o = {}) =>
      mintDevToken(
        { sub: o.sub ?? `admin_${tenant}`, tenant, plan: "enterprise", admin: true },
        clock,
      ),
    request,
    async grant(tenant, cls, amount) {
      const res = await request("POST", "/v1/admin/grants", {
        token: await testService.adminToken(),
        headers: { "idempotency-key": `grant-${randomUUID()}` },
        body: { tenant, class: cls, amount },
      });
      if (res.status !== 201) throw new Error(`grant failed: ${res.status} ${res.text}`);
    },
    async close() {
      await service.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return testService;
}

export function decisionHeaders(key: string = `dec-${randomUUID()}`): Record<string, string> {
  return { "idempotency-key": key };
}
