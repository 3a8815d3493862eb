/**
 * One "service instance" in the hot-tenant race: fires `count` concurrent debits of `amount` on
 * `tenant` once told to go, and prints how many succeeded and how many were refused.
 * argv: kind target tenant count amount keyPrefix (the same prefix in every worker: duplicates)
 */
import { openStoreFromArgs, waitForGo } from "./open-store.js";

const [kind, target, tenant, count, amount, keyPrefix] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string,
];
const store = await openStoreFromArgs(kind, target);
process.stdout.write("ready\n");
await waitForGo();
const results = await Promise.all(
  Array.from({ length: Number(count) }, (_, i) =>
    store.debit({ tenant, key: `${keyPrefix}-${i}`, amount: Number(amount), drawOrder: ["paid"] }),
  ),
);
const codes: Record<string, number> = {};
for (const r of results) codes[r.code] = (codes[r.code] ?? 0) + 1;
process.stdout.write(`${JSON.stringify(codes)}\n`);
await store.close();
process.exit(0);
