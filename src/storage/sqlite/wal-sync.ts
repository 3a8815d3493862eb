/**
 * Durable commits without blocking the event loop. The writer commits with synchronous=NORMAL
 * (the WAL is written but not synced), then this syncs the WAL file on the libuv pool before
 * any operation of the batch is acknowledged: the same guarantee as synchronous=FULL, whose
 * fsync would stall every request for the disk's latency (milliseconds here). fsync is per
 * file, so a sync through our own descriptor flushes what the connection wrote, and a WAL is
 * only ever appended or rewound in place (same file) while connections are open.
 * Syncs coalesce: one running sync plus at most one queued sync serve any number of commits.
 */
import { closeSync, fdatasync, openSync } from "node:fs";
import { CreditgateError } from "../../errors.js";

/** Syncs a file descriptor's data; replaceable so tests can hold a sync back. */
export type WalSyncFunction = (fd: number) => Promise<void>;

export const datasync: WalSyncFunction = (fd) =>
  new Promise((resolve, reject) => {
    fdatasync(fd, (error) => (error ? reject(error) : resolve()));
  });

export class WalSyncer {
  readonly #fd: number;
  readonly #sync: WalSyncFunction;
  #running: Promise<void> | undefined;
  #queued: Promise<void> | undefined;
  #syncs = 0;

  private constructor(fd: number, sync: WalSyncFunction) {
    this.#fd = fd;
    this.#sync = sync;
  }

  /**
   * Opens (never writes, never creates) the WAL the connections already use: a missing file
   * means we are not looking at SQLite's WAL, and syncing something else would be a lie.
   */
  static open(walPath: string, sync: WalSyncFunction = datasync): WalSyncer {
    try {
      return new WalSyncer(openSync(walPath, "r+"), sync);
    } catch (cause) {
      throw new CreditgateError("STORE_DURABILITY_UNSAFE", {
        message: `cannot open the SQLite WAL ${walPath} to sync it: ${(cause as Error).message}`,
        cause,
      });
    }
  }

  /** Completed syncs, for tests and benchmarks. */
  get syncs(): number {
    return this.#syncs;
  }

  /** Resolves once everything written to the WAL before this call is on stable storage. */
  sync(): Promise<void> {
    if (this.#running === undefined) return this.#start();
    // The running sync may have started before this commit was written: one more covers it,
    // and every commit that arrives while it waits.
    this.#queued ??= this.#running.then(
      () => this.#startQueued(),
      () => this.#startQueued(),
    );
    return this.#queued;
  }

  #startQueued(): Promise<void> {
    this.#queued = undefined;
    return this.#start();
  }

  #start(): Promise<void> {
    const run = this.#sync(this.#fd).then(() => {
      this.#syncs++;
    });
    this.#running = run;
    const clear = () => {
      if (this.#running === run) this.#running = undefined;
    };
    run.then(clear, clear);
    return run;
  }

  async close(): Promise<void> {
    await this.#queued?.catch(() => undefined);
    await this.#running?.catch(() => undefined);
    closeSync(this.#fd);
  }
}
