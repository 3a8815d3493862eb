/**
 * The task key set on disk: one JSON file holding private keys (mode 0600), created with one
 * key on first use, replaced atomically (temp file + rename) on rotation, and re-read when
 * another process (`creditgate keys rotate`, another instance) has replaced it. Checks for a
 * newer file happen on use, at most once per limits.taskKeyReloadMinMs: no timers to leak.
 */

import type { KeyObject } from "node:crypto";
import { createPrivateKey, createPublicKey, randomBytes } from "node:crypto";
import {
  type FileHandle,
  link,
  mkdir,
  open,
  readFile,
  rename,
  stat,
  unlink,
} from "node:fs/promises";
import { dirname } from "node:path";
import { type Clock, systemClock } from "../clock.js";
import type { TasksConfig } from "../config/types.js";
import { CreditgateError } from "../errors.js";
import { limits } from "../limits.js";
import {
  initialKeySet,
  keyState,
  parseTaskKeySet,
  prune,
  publicJwkOf,
  publishedKeys,
  rotate,
  serializeTaskKeySet,
  signingKey,
  type TaskJwk,
  type TaskKey,
  type TaskKeySet,
  type TaskKeyState,
} from "./keyset.js";

export interface TaskKeyStoreOptions {
  readonly clock?: Clock;
  /** Create the file with one key when it is missing (default true; `keys list` passes false). */
  readonly create?: boolean;
}

/** The key that signs now, imported for signing. */
export interface TaskSigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
}

export interface TaskKeyRotation {
  /** The new key: published now, signing from its activatesAtMs. */
  readonly added: TaskKey;
  /** The key that signed when rotating, with its retiresAtMs set; undefined if none signed. */
  readonly retiring: TaskKey | undefined;
  /** Keys dropped because every token they signed has expired. */
  readonly pruned: readonly string[];
}

export interface TaskKeyListing {
  readonly key: TaskKey;
  readonly state: TaskKeyState;
  /** Until when it is published; null while it has no successor. */
  readonly publishedUntilMs: number | null;
}

interface FileVersion {
  readonly mtimeMs: number;
  readonly ino: number;
  readonly size: number;
}

function keysInvalid(path: string, problem: string, cause?: unknown): CreditgateError {
  return new CreditgateError("TASK_KEYS_INVALID", {
    message: `task key file ${path}: ${problem}`,
    details: { file: path },
    ...(cause === undefined ? {} : { cause }),
  });
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
}

async function readKeyFile(path: string): Promise<{ set: TaskKeySet; version: FileVersion }> {
  let info: Awaited<ReturnType<typeof stat>>;
  let text: string;
  try {
    info = await stat(path);
    // Bounded read: a wrong path must not slurp a huge file into memory.
    if (info.size > limits.taskKeysFileBytesMax) {
      throw keysInvalid(path, `exceeds ${limits.taskKeysFileBytesMax} bytes`);
    }
    text = await readFile(path, "utf8");
  } catch (cause) {
    if (cause instanceof CreditgateError || isNotFound(cause)) throw cause;
    throw keysInvalid(path, "cannot be read", cause);
  }
  return {
    set: parseTaskKeySet(text, path),
    version: { mtimeMs: Number(info.mtimeMs), ino: Number(info.ino), size: Number(info.size) },
  };
}

/** Writes `text` to a new 0600 file next to `path`, synced; returns its name. */
async function writeTemp(path: string, text: string): Promise<string> {
  const temp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  let handle: FileHandle | undefined;
  try {
    // 0600 from the first byte: a chmod after writing would leave a window.
    handle = await open(temp, "wx", 0o600);
    await handle.writeFile(text, "utf8");
    await handle.sync();
  } catch (cause) {
    await handle?.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw keysInvalid(path, "cannot be written", cause);
  }
  await handle.close();
  return temp;
}

/** Makes a rename durable: the directory entry is synced too (best effort where unsupported). */
async function syncDir(path: string): Promise<void> {
  let dir: FileHandle | undefined;
  try {
    dir = await open(dirname(path), "r");
    await dir.sync();
  } catch {
    // Some platforms cannot fsync a directory; the rename itself is still atomic.
  } finally {
    await dir?.close().catch(() => undefined);
  }
}

/** Replaces `path` atomically: readers see the old file or the new one, never a partial one. */
async function replaceFile(path: string, set: TaskKeySet): Promise<void> {
  const temp = await writeTemp(path, serializeTaskKeySet(set));
  try {
    await rename(temp, path);
  } catch (cause) {
    await unlink(temp).catch(() => undefined);
    throw keysInvalid(path, "cannot be replaced", cause);
  }
  await syncDir(path);
}

/** Creates `path` only if it does not exist; false when another process created it first. */
async function createFile(path: string, set: TaskKeySet): Promise<boolean> {
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw keysInvalid(path, "its directory cannot be created", cause);
  }
  const temp = await writeTemp(path, serializeTaskKeySet(set));
  try {
    // link() fails on an existing target, unlike rename(): two processes starting together
    // end up with the same key set rather than each signing with a key the other never saw.
    await link(temp, path);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw keysInvalid(path, "cannot be created", cause);
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  await syncDir(path);
  return true;
}

export class TaskKeyStore {
  readonly config: TasksConfig;
  readonly path: string;
  readonly #clock: Clock;
  #set: TaskKeySet;
  #version: FileVersion;
  #checkedAtMs: number;
  #checking: Promise<void> | undefined;
  #closed = false;
  #reloadError: CreditgateError | undefined;
  readonly #privateKeys = new Map<string, KeyObject>();
  readonly #publicKeys = new Map<string, KeyObject>();

  private constructor(config: TasksConfig, clock: Clock, set: TaskKeySet, version: FileVersion) {
    this.config = config;
    this.path = config.keys_file;
    this.#clock = clock;
    this.#set = set;
    this.#version = version;
    this.#checkedAtMs = clock.nowMs();
  }

  /** Loads the key file, creating it with one signing key when missing (unless told not to). */
  static async open(config: TasksConfig, options: TaskKeyStoreOptions = {}): Promise<TaskKeyStore> {
    const clock = options.clock ?? systemClock;
    const path = config.keys_file;
    for (let attempt = 0; ; attempt++) {
      try {
        const { set, version } = await readKeyFile(path);
        return new TaskKeyStore(config, clock, set, version);
      } catch (error) {
        if (!isNotFound(error)) throw error;
        if (options.create === false || attempt > 0) {
          throw keysInvalid(path, "does not exist (created on the service's first start)", error);
        }
      }
      // Whether we or a concurrent process created it, read back what is on disk.
      await createFile(path, initialKeySet(clock.nowMs()));
    }
  }

  /** The key set as last read; pure functions in keyset.ts answer questions about it. */
  get keySet(): TaskKeySet {
    return this.#set;
  }

  /** Tokens live at most this long; keys stay published this long after they stop signing. */
  get maxTokenTtlMs(): number {
    return this.config.ttl_seconds_max * 1_000;
  }

  /** The last failed re-read (the previous key set stays in use); undefined once one succeeds. */
  get reloadError(): CreditgateError | undefined {
    return this.#reloadError;
  }

  /**
   * Re-reads the file if it changed on disk. Throttled to once per limits.taskKeyReloadMinMs
   * unless `force`. A file that turned unreadable or invalid keeps the previous set in use (as
   * a rejected policy bundle does) and is reported through `reloadError`.
   */
  async refresh(force = false): Promise<void> {
    if (this.#closed) return;
    const nowMs = this.#clock.nowMs();
    const due =
      force || nowMs >= this.#checkedAtMs + limits.taskKeyReloadMinMs || nowMs < this.#checkedAtMs; // the clock was set back
    if (!due) return;
    this.#checking ??= this.#check(nowMs).finally(() => {
      this.#checking = undefined;
    });
    await this.#checking;
  }

  async #check(nowMs: number): Promise<void> {
    this.#checkedAtMs = nowMs;
    try {
      const info = await stat(this.path);
      const unchanged =
        Number(info.mtimeMs) === this.#version.mtimeMs &&
        Number(info.ino) === this.#version.ino &&
        Number(info.size) === this.#version.size;
      if (unchanged) return;
      const { set, version } = await readKeyFile(this.path);
      this.#set = set;
      this.#version = version;
      this.#reloadError = undefined;
    } catch (error) {
      this.#reloadError =
        error instanceof CreditgateError ? error : keysInvalid(this.path, "cannot be read", error);
    }
  }

  /** The key that signs at `nowMs` (default now). TASK_KEYS_INVALID if none does yet. */
  async signingKey(nowMs?: number): Promise<TaskSigningKey> {
    await this.refresh();
    const at = nowMs ?? this.#clock.nowMs();
    const key = signingKey(this.#set, at);
    if (key === undefined) {
      // Only a set written by a host whose clock runs ahead of ours gets here.
      throw keysInvalid(this.path, `no key signs at ${new Date(at).toISOString()}`);
    }
    let privateKey = this.#privateKeys.get(key.kid);
    if (privateKey === undefined) {
      privateKey = createPrivateKey({ key: { ...key.privateJwk }, format: "jwk" });
      this.#privateKeys.set(key.kid, privateKey);
    }
    return { kid: key.kid, privateKey };
  }

  /** The public keys verifiers must know at `nowMs` (default now), for the JWKS document. */
  async publishedJwks(nowMs?: number): Promise<{ readonly keys: readonly TaskJwk[] }> {
    await this.refresh();
    const at = nowMs ?? this.#clock.nowMs();
    return { keys: publishedKeys(this.#set, at, this.maxTokenTtlMs).map(publicJwkOf) };
  }

  /** The verification key for `kid` if that key is published at `nowMs`; else undefined. */
  async publicKey(kid: string, nowMs?: number): Promise<KeyObject | undefined> {
    await this.refresh();
    const at = nowMs ?? this.#clock.nowMs();
    const key = publishedKeys(this.#set, at, this.maxTokenTtlMs).find((k) => k.kid === kid);
    if (key === undefined) return undefined;
    let publicKey = this.#publicKeys.get(kid);
    if (publicKey === undefined) {
      publicKey = createPublicKey({ key: { ...key.publicJwk }, format: "jwk" });
      this.#publicKeys.set(kid, publicKey);
    }
    return publicKey;
  }

  /** Every key with its state at `nowMs` (default now), in activation order. */
  list(nowMs?: number): readonly TaskKeyListing[] {
    const at = nowMs ?? this.#clock.nowMs();
    return [...this.#set.keys]
      .sort((a, b) => a.activatesAtMs - b.activatesAtMs || a.createdAtMs - b.createdAtMs)
      .map((key) => ({
        key,
        state: keyState(this.#set, key, at, this.maxTokenTtlMs),
        publishedUntilMs:
          key.retiresAtMs === null
            ? null
            : key.retiresAtMs + this.maxTokenTtlMs + limits.taskTokenClockToleranceSeconds * 1_000,
      }));
  }

  /**
   * Adds a key that signs after config.key_publish_lead_seconds and retires the current one at
   * that instant; drops keys whose tokens have all expired; writes the file atomically. Reads
   * the file first, so a rotation by another process is built on, not overwritten.
   */
  async rotate(nowMs?: number): Promise<TaskKeyRotation> {
    const at = nowMs ?? this.#clock.nowMs();
    const { set: current, version } = await readKeyFile(this.path).catch((error: unknown) => {
      throw isNotFound(error) ? keysInvalid(this.path, "does not exist", error) : error;
    });
    const kept = prune(current, at, this.maxTokenTtlMs);
    if (kept.keys.length >= limits.taskKeysMax) {
      throw new CreditgateError("TASK_KEYS_FULL", {
        message: `the task key set already holds ${kept.keys.length} published keys (at most ${limits.taskKeysMax})`,
      });
    }
    const before = signingKey(kept, at);
    const rotated = rotate(kept, at, this.config.key_publish_lead_seconds * 1_000);
    const added = rotated.keys.find((key) => !kept.keys.some((k) => k.kid === key.kid));
    if (added === undefined) throw new TypeError("rotate added no key");
    await replaceFile(this.path, rotated);
    this.#set = rotated;
    // The version read before writing is stale now; the next check re-reads our own file.
    this.#version = { ...version, size: -1 };
    this.#checkedAtMs = this.#clock.nowMs();
    return {
      added,
      retiring: before === undefined ? undefined : rotated.keys.find((k) => k.kid === before.kid),
      pruned: current.keys.filter((k) => !kept.keys.includes(k)).map((k) => k.kid),
    };
  }

  /** Stops re-reading the file; requests still in flight keep the last key set. */
  close(): void {
    this.#closed = true;
  }
}
