/** Task tests' shared setup: a tasks configuration in a temp directory and a verifier over it. */

import { createPublicKey } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock } from "../../src/clock.js";
import type { TasksConfig } from "../../src/config/types.js";
import {
  createIdentityVerifier,
  type IdentityVerifier,
  type IssuerConfig,
} from "../../src/identity/index.js";
import {
  type TaskKeyStore,
  type TaskTokenRequest,
  taskIssuerConfig,
  taskKeyResolverFactory,
} from "../../src/tasks/index.js";
import type { TestKey } from "../identity/fixtures.js";

export const startMs = Date.UTC(2026, 10, 24, 12, 0, 0);
export const second = 1_000;

export const leadSeconds = 600;
export const ttlMaxSeconds = 3_600;

export async function tempDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "creditgate-tasks-"));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export function tasksConfig(dir: string, overrides: Partial<TasksConfig> = {}): TasksConfig {
  return {
    keys_file: join(dir, "keys", "task-keys.json"),
    issuer: "urn:creditgate:tasks",
    audience: "creditgate-task",
    ttl_seconds_default: 900,
    ttl_seconds_max: ttlMaxSeconds,
    key_publish_lead_seconds: leadSeconds,
    ...overrides,
  };
}

export const newClock = (): ManualClock => new ManualClock(startMs);

export function taskRequest(overrides: Partial<TaskTokenRequest> = {}): TaskTokenRequest {
  return {
    taskId: "tsk_1",
    tenant: "acme",
    plan: "pro",
    scopes: ["model.infer"],
    parent: { id: "usr_1", kind: "user", issuer: "https://dev.creditgate.local" },
    holdId: "hld_1",
    budget: 500,
    ...overrides,
  };
}

/** A verifier trusting the task issuer (and `others`), with the cache off so keys are looked up. */
export function taskVerifier(
  store: TaskKeyStore,
  clock: ManualClock,
  others: readonly IssuerConfig[] = [],
): Promise<IdentityVerifier> {
  return createIdentityVerifier({
    issuers: [...others, taskIssuerConfig(store.config)],
    clock,
    cacheEntriesMax: 0,
    keyResolverFactory: taskKeyResolverFactory(store),
  });
}

/** The signing task key as a raw-signing test key, to craft task-key tokens with any header. */
export async function taskTestKey(store: TaskKeyStore, nowMs: number): Promise<TestKey> {
  const { kid, privateKey } = await store.signingKey(nowMs);
  const publicKey = createPublicKey(privateKey);
  return {
    alg: "EdDSA",
    kid,
    privateKey,
    publicKey,
    publicJwk: publicKey.export({ format: "jwk" }),
  };
}
