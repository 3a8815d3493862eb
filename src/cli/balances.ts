/** `creditgate balances`: a tenant's available, posted and held credits per class. */
import { parseArgs } from "node:util";
import type { Balances } from "../ledger/types.js";
import { type CliIO, UsageError } from "./io.js";
import {
  configHelp,
  configOption,
  identifier,
  json,
  loadCliConfig,
  required,
  time,
  withStore,
} from "./options.js";

export const balancesHelp = `Usage: creditgate balances --tenant T [--at TIME]

Prints tenant T's balances per class as JSON: available (posted minus held, what the policy
sees), posted and held. Activations and expiries due now are applied first.

Options:
  --tenant T                   tenant
  --at TIME                    RFC 3339 time in the past: the balances as they were then
${configHelp}
`;

export async function balancesCommand(args: readonly string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      ...configOption,
      tenant: { type: "string" },
      at: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout(balancesHelp);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const tenant = identifier(required(values.tenant, "tenant"), "tenant");
  const atMs = values.at === undefined ? undefined : time(values.at, "at");
  if (atMs !== undefined && atMs > Date.now()) {
    throw new UsageError("--at must not be in the future");
  }

  const config = await loadCliConfig(io, values.config);
  const balances: Balances = await withStore(config, (store) =>
    atMs === undefined ? store.balances(tenant) : store.balancesAt(tenant, atMs),
  );
  io.stdout(
    json({
      tenant: balances.tenant,
      at: new Date(balances.atMs).toISOString(),
      available: balances.available,
      posted: balances.posted,
      held: balances.held,
    }),
  );
  return 0;
}
