/**
 * Debits in a loop, several in flight, printing `ack <key> <transferId>` after each debit the store
 * acknowledged, until the parent kills it with SIGKILL. Bounded so it can never run forever.
 * argv: kind target tenant round
 */
import { openStoreFromArgs } from "./open-store.js";

const [kind, target, tenant, round] = process.argv.slice(2) as [string, string, string, string];
const store = await openStoreFromArgs(kind, target);
process.stdout.write("ready\n");
const inFlight = 8;
const iterationsMax = 200_000;
let next = 0;
async function lane(): Promise<void> {
  while (next < iterationsMax) {
    const key = `r${round}-${next++}`;
    const r = await store.debit({ tenant, key, amount: 1, drawOrder: ["paid"] });
    if (r.ok) process.stdout.write(`ack ${key} ${r.value.transferId}\n`);
    else process.stdout.write(`refused ${key} ${r.code}\n`);
  }
}
await Promise.all(Array.from({ length: inFlight }, lane));
await store.close();
