/**
 * Revocations pushed between instances that share PostgreSQL: whoever revokes publishes on a
 * NOTIFY channel after the revocation committed, and every instance LISTENs and re-reads that
 * tenant's revocations from the store before its next check (a notice is a hint, never a
 * revocation by itself). Push is the fast path; the index's periodic re-read of the store
 * (limits.revocationRefreshMs) is the fallback that holds even if a notification is lost, e.g.
 * while the listening connection reconnects. SQLite has one writer per file, so it has no feed.
 */
import pg from "pg";
import type { Revocation } from "../../ledger/types.js";
import { revocationKinds } from "../../ledger/types.js";
import { limits } from "../../limits.js";
import type { RevocationFeed, RevocationFeedHandlers, RevocationNotice } from "../driver.js";

const revocationChannel = "creditgate_revocations";

/** A notice from the channel, or null when the payload is not one (never trusted blindly). */
function parseNotice(payload: string | undefined): RevocationNotice | null {
  if (payload === undefined || payload.length > limits.revocationNoticeBytesMax) return null;
  try {
    const value = JSON.parse(payload) as Partial<RevocationNotice>;
    if (
      typeof value.tenant === "string" &&
      typeof value.subject === "string" &&
      (revocationKinds as readonly unknown[]).includes(value.kind)
    ) {
      return {
        tenant: value.tenant,
        kind: value.kind as Revocation["kind"],
        subject: value.subject,
      };
    }
  } catch {
    // Not JSON: ignored, like any payload that is not a notice.
  }
  return null;
}

export interface RevocationFeedOptions extends RevocationFeedHandlers {
  readonly connectionString: string;
}

/** Listens on a dedicated connection, reconnecting with backoff when it drops. */
export async function openRevocationFeed(options: RevocationFeedOptions): Promise<RevocationFeed> {
  let closed = false;
  let listener: pg.Client | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  const publisher = new pg.Pool({ connectionString: options.connectionString, max: 1 });
  publisher.on("error", (error) => options.onError?.(error));

  const connect = async (attempt: number): Promise<void> => {
    const client = new pg.Client({ connectionString: options.connectionString });
    client.on("notification", (message) => {
      if (message.channel !== revocationChannel) return;
      const notice = parseNotice(message.payload);
      if (notice !== null) options.onNotice(notice);
    });
    const reconnect = (error: Error) => {
      options.onError?.(error);
      if (closed || listener !== client) return;
      listener = undefined;
      void client.end().catch(() => undefined);
      const delayMs = Math.min(limits.revocationFeedRetryMsMax, 100 * 2 ** attempt);
      retryTimer = setTimeout(() => {
        void connect(attempt + 1).catch(() => undefined);
      }, delayMs);
      retryTimer.unref();
    };
    client.on("error", reconnect);
    try {
      await client.connect();
      await client.query(`LISTEN ${revocationChannel}`);
    } catch (error) {
      if (attempt === 0) throw error;
      listener = client;
      reconnect(error as Error);
      return;
    }
    if (closed) {
      await client.end();
      return;
    }
    listener = client;
  };
  await connect(0);

  return {
    async publish(notice) {
      await publisher.query("SELECT pg_notify($1, $2)", [
        revocationChannel,
        JSON.stringify(notice),
      ]);
    },
    async close() {
      closed = true;
      clearTimeout(retryTimer);
      await listener?.end().catch(() => undefined);
      await publisher.end();
    },
  };
}
