/** `creditgate audit verify|export`: the hash-chained audit trail. */
import { open } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { assertChainIntact } from "../audit/verify.js";
import { type CliIO, UsageError } from "./io.js";
import { configHelp, configOption, json, loadCliConfig, withStore } from "./options.js";

export const auditHelp = `Usage: creditgate audit <command> [options]

Commands:
  verify                       walk the hash chain; prints the result as JSON and exits 1
                               (AUDIT_CHAIN_BROKEN) naming the first broken record
  export [--out FILE]          every record as JSON Lines (one canonical record per line, so the
                               file re-verifies as is) to FILE or stdout; then verifies the chain
                               and exits 1 if it is broken (the export is still complete)

Options:
  --out FILE                   export: write to FILE instead of stdout (overwritten)
${configHelp}
`;

/** Collects lines into chunks, so a large export is not one write per record. */
const chunkChars = 1 << 16;

export async function auditCommand(args: readonly string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      ...configOption,
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || command === undefined) {
    io.stdout(auditHelp);
    return command === undefined && !values.help ? 2 : 0;
  }
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  if (command !== "verify" && command !== "export") {
    throw new UsageError(`unknown audit command "${command}"`);
  }
  if (command === "verify" && values.out !== undefined) {
    throw new UsageError("--out is for audit export");
  }
  const config = await loadCliConfig(io, values.config);

  if (command === "verify") {
    const result = await withStore(config, (store) => store.verifyAudit());
    io.stdout(
      json(
        result.ok
          ? { ok: true, count: result.count, head: result.head }
          : {
              ok: false,
              verified: result.count,
              broken_seq: result.brokenSeq,
              reason: result.reason,
              ...(result.row === undefined ? {} : { row: result.row }),
            },
      ),
    );
    assertChainIntact(result);
    return 0;
  }

  const out = values.out === undefined ? undefined : resolve(io.cwd, values.out);
  const { count, verification } = await withStore(config, async (store) => {
    const file = out === undefined ? undefined : await open(out, "w");
    let chunk = "";
    const flush = async () => {
      if (chunk.length === 0) return;
      const text = chunk;
      chunk = "";
      if (file === undefined) io.stdout(text);
      else await file.write(text);
    };
    try {
      const count = await store.exportAudit(async (line) => {
        chunk += line;
        if (chunk.length >= chunkChars) await flush();
      });
      await flush();
      if (file !== undefined) await file.sync();
      return { count, verification: await store.verifyAudit() };
    } finally {
      await file?.close();
    }
  });
  if (out !== undefined) io.stderr(`exported ${count} audit records to ${out}\n`);
  assertChainIntact(verification);
  return 0;
}
