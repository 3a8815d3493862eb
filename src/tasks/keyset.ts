/**
 * The task-signing key set as data: Ed25519 key pairs with the times they start and stop
 * signing, and pure functions over it that take `nowMs`, so the rotation timeline is decided
 * here and tested on a ManualClock. Reading and writing the file is src/tasks/key-store.ts.
 *
 * Timeline of a rotation at time R with publish lead L and maximum token lifetime T:
 *   new key:  published from R, signs from R + L
 *   old key:  signs until R + L, published until R + L + T + tolerance (its last token's expiry)
 * so every verifier can know a key before the first token it signs, and until the last one expires.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";
import { CreditgateError } from "../errors.js";
import { limits } from "../limits.js";

export interface TaskPublicJwk {
  readonly kty: "OKP";
  readonly crv: "Ed25519";
  readonly x: string;
}

export interface TaskPrivateJwk extends TaskPublicJwk {
  readonly d: string;
}

export interface TaskKey {
  /** RFC 7638 thumbprint of the public key. */
  readonly kid: string;
  readonly privateJwk: TaskPrivateJwk;
  readonly publicJwk: TaskPublicJwk;
  readonly createdAtMs: number;
  /** When it starts signing; it is published from the moment it is in the set. */
  readonly activatesAtMs: number;
  /** When it stopped (or will stop) signing; null while no successor is scheduled. */
  readonly retiresAtMs: number | null;
}

export interface TaskKeySet {
  readonly version: 1;
  readonly keys: readonly TaskKey[];
}

/** A published key as served at /.well-known/jwks.json. */
export interface TaskJwk extends TaskPublicJwk {
  readonly kid: string;
  readonly alg: "EdDSA";
  readonly use: "sig";
}

/**
 * next: published, not signing yet; active: signing; retiring: no longer signing but published
 * while tokens it signed may be alive; retired: no longer published (dropped by the next prune).
 */
export type TaskKeyState = "next" | "active" | "retiring" | "retired";

const toleranceMs = limits.taskTokenClockToleranceSeconds * 1_000;

/** Activation order; ties (same instant) go to the key created later. */
function byActivation(a: TaskKey, b: TaskKey): number {
  return a.activatesAtMs - b.activatesAtMs || a.createdAtMs - b.createdAtMs;
}

/** The key that signs at `nowMs`: the newest one activated and not retired; undefined if none. */
export function signingKey(set: TaskKeySet, nowMs: number): TaskKey | undefined {
  let current: TaskKey | undefined;
  for (const key of set.keys) {
    if (key.activatesAtMs > nowMs) continue;
    if (key.retiresAtMs !== null && key.retiresAtMs <= nowMs) continue;
    if (current === undefined || byActivation(key, current) > 0) current = key;
  }
  return current;
}

/** Until when a key must stay published: the expiry of the last token it can have signed. */
export function publishedUntilMs(key: TaskKey, maxTokenTtlMs: number): number {
  return key.retiresAtMs === null
    ? Number.POSITIVE_INFINITY
    : key.retiresAtMs + maxTokenTtlMs + toleranceMs;
}

/** Keys a verifier must know at `nowMs`: pending ones early, retired ones until their tokens died. */
export function publishedKeys(
  set: TaskKeySet,
  nowMs: number,
  maxTokenTtlMs: number,
): readonly TaskKey[] {
  return set.keys.filter((key) => nowMs < publishedUntilMs(key, maxTokenTtlMs));
}

export function keyState(
  set: TaskKeySet,
  key: TaskKey,
  nowMs: number,
  maxTokenTtlMs: number,
): TaskKeyState {
  if (key.activatesAtMs > nowMs) return "next";
  if (signingKey(set, nowMs)?.kid === key.kid) return "active";
  return nowMs < publishedUntilMs(key, maxTokenTtlMs) ? "retiring" : "retired";
}

/** RFC 7638 thumbprint of an Ed25519 public key: members in lexicographic order, no spaces. */
export function thumbprint(jwk: TaskPublicJwk): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x });
  return createHash("sha256").update(canonical).digest("base64url");
}

/** A fresh Ed25519 key created at `nowMs` that starts signing at `activatesAtMs`. */
export function generateTaskKey(nowMs: number, activatesAtMs: number): TaskKey {
  const { privateKey } = generateKeyPairSync("ed25519");
  const jwk = privateKey.export({ format: "jwk" });
  if (typeof jwk.x !== "string" || typeof jwk.d !== "string") {
    throw new TypeError("node exported an Ed25519 key without x or d");
  }
  const publicJwk: TaskPublicJwk = { kty: "OKP", crv: "Ed25519", x: jwk.x };
  return {
    kid: thumbprint(publicJwk),
    privateJwk: { ...publicJwk, d: jwk.d },
    publicJwk,
    createdAtMs: nowMs,
    activatesAtMs,
    retiresAtMs: null,
  };
}

/**
 * A first key set: one key, signing at once (nothing can have cached an older set), from the
 * start of the second it was created in: tokens are issued at whole seconds, so a task started in
 * that second is signed at an instant before the key's creation.
 */
export function initialKeySet(
  nowMs: number,
  key: TaskKey = generateTaskKey(nowMs, Math.floor(nowMs / 1_000) * 1_000),
): TaskKeySet {
  return { version: 1, keys: [key] };
}

/**
 * Adds `key` (by default a new one activating at now + lead) and schedules each key's retirement
 * for the instant the next one activates, so exactly one key signs at any time. Keys that already
 * have a retirement keep it.
 */
export function rotate(
  set: TaskKeySet,
  nowMs: number,
  publishLeadMs: number,
  key: TaskKey = generateTaskKey(nowMs, nowMs + publishLeadMs),
): TaskKeySet {
  if (set.keys.some((existing) => existing.kid === key.kid)) {
    throw new TypeError(`key ${key.kid} is already in the set`);
  }
  const ordered = [...set.keys, key].sort(byActivation);
  const keys = ordered.map((current, index) => {
    const next = ordered[index + 1];
    if (next === undefined || current.retiresAtMs !== null) return current;
    return { ...current, retiresAtMs: next.activatesAtMs };
  });
  return { version: 1, keys };
}

/** Drops keys that are no longer published: every token they signed has expired. */
export function prune(set: TaskKeySet, nowMs: number, maxTokenTtlMs: number): TaskKeySet {
  return { version: 1, keys: publishedKeys(set, nowMs, maxTokenTtlMs) };
}

export function publicJwkOf(key: TaskKey): TaskJwk {
  return { ...key.publicJwk, kid: key.kid, alg: "EdDSA", use: "sig" };
}

// --- the file format ----------------------------------------------------------------------

function invalid(source: string, problem: string, cause?: unknown): CreditgateError {
  return new CreditgateError("TASK_KEYS_INVALID", {
    message: `task key file ${source}: ${problem}`,
    details: { file: source },
    ...(cause === undefined ? {} : { cause }),
  });
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function exactMembers(
  value: Readonly<Record<string, unknown>>,
  members: readonly string[],
  what: string,
  source: string,
): void {
  for (const member of Object.keys(value)) {
    if (!members.includes(member)) throw invalid(source, `${what} has an unknown member ${member}`);
  }
}

/** Canonical base64url of exactly 32 bytes: an Ed25519 public key or seed. */
function isKeyBytes(value: unknown): value is string {
  if (typeof value !== "string") return false;
  const bytes = Buffer.from(value, "base64url");
  return bytes.length === 32 && bytes.toString("base64url") === value;
}

function isTime(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function parseKey(value: unknown, index: number, source: string): TaskKey {
  const at = `keys[${index}]`;
  if (!isRecord(value)) throw invalid(source, `${at} is not an object`);
  exactMembers(
    value,
    ["kid", "privateJwk", "publicJwk", "createdAtMs", "activatesAtMs", "retiresAtMs"],
    at,
    source,
  );
  const { kid, privateJwk, publicJwk, createdAtMs, activatesAtMs, retiresAtMs } = value;
  if (!isRecord(privateJwk) || !isRecord(publicJwk)) {
    throw invalid(source, `${at} needs privateJwk and publicJwk objects`);
  }
  exactMembers(privateJwk, ["kty", "crv", "x", "d"], `${at}.privateJwk`, source);
  exactMembers(publicJwk, ["kty", "crv", "x"], `${at}.publicJwk`, source);
  for (const jwk of [privateJwk, publicJwk]) {
    if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || !isKeyBytes(jwk.x)) {
      throw invalid(source, `${at} is not an Ed25519 key`);
    }
  }
  if (!isKeyBytes(privateJwk.d)) throw invalid(source, `${at}.privateJwk has no valid d`);
  if (privateJwk.x !== publicJwk.x)
    throw invalid(source, `${at}: the public key is not the private key's`);
  const pub: TaskPublicJwk = { kty: "OKP", crv: "Ed25519", x: publicJwk.x as string };
  // x is only a claim about d: derive the public key from d, or a swapped d would sign tokens
  // that no published key verifies.
  let derived: string | undefined;
  try {
    const key = createPrivateKey({ key: { ...pub, d: privateJwk.d }, format: "jwk" });
    derived = createPublicKey(key).export({ format: "jwk" }).x;
  } catch (cause) {
    throw invalid(source, `${at} cannot be imported`, cause);
  }
  if (derived !== pub.x) throw invalid(source, `${at}: x does not belong to d`);
  if (kid !== thumbprint(pub)) throw invalid(source, `${at}: kid is not the key's thumbprint`);
  if (!isTime(createdAtMs) || !isTime(activatesAtMs)) {
    throw invalid(source, `${at} needs createdAtMs and activatesAtMs as epoch milliseconds`);
  }
  if (retiresAtMs !== null && !(isTime(retiresAtMs) && retiresAtMs >= activatesAtMs)) {
    throw invalid(source, `${at}.retiresAtMs must be null or no earlier than activatesAtMs`);
  }
  return {
    kid,
    privateJwk: { ...pub, d: privateJwk.d },
    publicJwk: pub,
    createdAtMs,
    activatesAtMs,
    retiresAtMs,
  };
}

/** Parses and checks a key file's text; every problem is TASK_KEYS_INVALID naming `source`. */
export function parseTaskKeySet(text: string, source: string): TaskKeySet {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw invalid(source, "not JSON", cause);
  }
  if (!isRecord(value)) throw invalid(source, "not a JSON object");
  exactMembers(value, ["version", "keys"], "the key set", source);
  if (value.version !== 1) throw invalid(source, "unknown version (expected 1)");
  const { keys } = value;
  if (!Array.isArray(keys) || keys.length === 0) throw invalid(source, "holds no keys");
  if (keys.length > limits.taskKeysMax) {
    throw invalid(source, `holds more than ${limits.taskKeysMax} keys`);
  }
  const parsed = keys.map((key, index) => parseKey(key, index, source));
  if (new Set(parsed.map((key) => key.kid)).size !== parsed.length) {
    throw invalid(source, "holds the same key twice");
  }
  return { version: 1, keys: parsed };
}

export function serializeTaskKeySet(set: TaskKeySet): string {
  return `${JSON.stringify(set, null, 2)}\n`;
}
