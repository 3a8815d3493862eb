/** `creditgate keys rotate|list`: the task-signing key set (tasks.keys_file). */
import { parseArgs } from "node:util";
import { TaskKeyStore } from "../tasks/index.js";
import { type CliIO, UsageError } from "./io.js";
import { configHelp, configOption, json, loadCliConfig } from "./options.js";

export const keysHelp = `Usage: creditgate keys <command> [options]

The keys creditgate signs task tokens with (tasks.keys_file, private: mode 0600). A running
service picks up a rotation within a second; no restart.

Commands:
  rotate                       add a key that is published now and signs after
                               tasks.key_publish_lead_seconds; the current key signs until then
                               and stays published until its last token has expired
                               (tasks.ttl_seconds_max later); prints both as JSON
  list                         every key with its state (next, active, retiring, retired) and
                               times, as JSON

Options:
${configHelp}
`;

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export async function keysCommand(args: readonly string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: { ...configOption, help: { type: "boolean", short: "h" } },
  });
  const [command, ...rest] = positionals;
  if (values.help || command === undefined) {
    io.stdout(keysHelp);
    return command === undefined && !values.help ? 2 : 0;
  }
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  if (command !== "rotate" && command !== "list") {
    throw new UsageError(`unknown keys command "${command}"`);
  }
  const config = await loadCliConfig(io, values.config);
  // Listing never creates keys; rotating creates the file first if the service never ran.
  const store = await TaskKeyStore.open(config.tasks, { create: command === "rotate" });
  try {
    if (command === "rotate") {
      const { added, retiring, pruned } = await store.rotate();
      const listing = store.list();
      const publishedUntil = (kid: string) =>
        iso(listing.find((entry) => entry.key.kid === kid)?.publishedUntilMs ?? null);
      io.stdout(
        json({
          file: store.path,
          kid: added.kid,
          signs_from: iso(added.activatesAtMs),
          retiring:
            retiring === undefined
              ? null
              : {
                  kid: retiring.kid,
                  signs_until: iso(retiring.retiresAtMs),
                  published_until: publishedUntil(retiring.kid),
                },
          pruned,
        }),
      );
      return 0;
    }
    io.stdout(
      json({
        file: store.path,
        keys: store.list().map(({ key, state, publishedUntilMs }) => ({
          kid: key.kid,
          state,
          created_at: iso(key.createdAtMs),
          signs_from: iso(key.activatesAtMs),
          signs_until: iso(key.retiresAtMs),
          published_until: iso(publishedUntilMs),
        })),
      }),
    );
    return 0;
  } finally {
    store.close();
  }
}
