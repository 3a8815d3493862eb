/** The PostgreSQL driver: a pool from `store.postgres`, and the LISTEN/NOTIFY revocation feed. */
import { CreditgateError, isCreditgateError } from "../../errors.js";
import { redactUrl, registerStoreDriver } from "../driver.js";
import { openRevocationFeed } from "./revocation-feed.js";
import { PostgresLedgerStore } from "./store.js";

registerStoreDriver("postgres", {
  async open(config, options) {
    const section = config.store.postgres;
    if (section === undefined) {
      throw new CreditgateError("CONFIG_INVALID", {
        message: "store.kind is postgres but store.postgres is not configured",
      });
    }
    try {
      return await PostgresLedgerStore.open({
        connectionString: section.url,
        poolSize: section.pool_size,
        ...options,
      });
    } catch (cause) {
      if (isCreditgateError(cause)) throw cause;
      throw new CreditgateError("STORE_UNAVAILABLE", {
        message: `cannot open the PostgreSQL store at ${redactUrl(section.url)}: ${(cause as Error).message}`,
        cause,
      });
    }
  },
  async feed(config, handlers) {
    const section = config.store.postgres;
    if (section === undefined) return undefined;
    return openRevocationFeed({ connectionString: section.url, ...handlers });
  },
});
