/**
 * `creditgate revoke`: the same revocation as POST /v1/admin/revocations, on the configured
 * store. On PostgreSQL every running instance is told at once; on SQLite the service sharing
 * the file reads it within a second.
 */
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { type RevocationKind, type RevokeRequest, revocationKinds } from "../ledger/types.js";
import { revoke } from "../service/revoke.js";
import { openRevocationFeed } from "../storage/open.js";
import { type CliIO, UsageError } from "./io.js";
import {
  configHelp,
  configOption,
  identifier,
  json,
  loadCliConfig,
  required,
  withStore,
} from "./options.js";

export const revokeHelp = `Usage: creditgate revoke --tenant T --kind K --subject S --reason R [options]

Revokes, from the next request on, every token matching it: a principal (its id), a token (its
jti), a task (its id), a whole tenant (the tenant id), or a grant (its id). Audited; replaying the
same --key answers "exists".

Options:
  --tenant T                   tenant
  --kind K                     ${revocationKinds.join(", ")}
  --subject S                  what is revoked (principal id, jti, task id, tenant, grant id)
  --reason R                   why, for the audit trail
  --key K                      idempotency key (default a fresh random one)
${configHelp}
`;

export async function revokeCommand(args: readonly string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      ...configOption,
      tenant: { type: "string" },
      kind: { type: "string" },
      subject: { type: "string" },
      reason: { type: "string" },
      key: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout(revokeHelp);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const kind = required(values.kind, "kind");
  if (!(revocationKinds as readonly string[]).includes(kind)) {
    throw new UsageError(`--kind must be one of ${revocationKinds.join(", ")}, got "${kind}"`);
  }
  const reason = required(values.reason, "reason");
  if (reason.length === 0 || reason.length > 500) {
    throw new UsageError("--reason must be 1 to 500 characters");
  }
  const request: RevokeRequest = {
    tenant: identifier(required(values.tenant, "tenant"), "tenant"),
    key: identifier(values.key ?? `cli-${randomUUID()}`, "key"),
    kind: kind as RevocationKind,
    subject: identifier(required(values.subject, "subject"), "subject"),
    reason,
    audit: { via: "cli" },
  };

  const config = await loadCliConfig(io, values.config);
  const result = await withStore(config, async (store) => {
    const feed = await openRevocationFeed(config, { onNotice: () => undefined });
    try {
      return await revoke(
        {
          store,
          ...(feed === undefined ? {} : { feed }),
          onNotifyError: (error) =>
            io.stderr(
              `creditgate: revoked, but other instances were not notified: ${error.message}\n`,
            ),
        },
        request,
      );
    } finally {
      await feed?.close();
    }
  });
  if (!result.ok) {
    io.stdout(json({ ok: false, code: result.code, tenant: request.tenant, key: request.key }));
    io.stderr(`creditgate: revocation refused: ${result.code}\n`);
    return 1;
  }
  io.stdout(
    json({
      ok: true,
      code: result.code,
      tenant: request.tenant,
      key: request.key,
      revocation_id: result.value.revocationId,
      kind: request.kind,
      subject: request.subject,
      audit_seq: result.value.auditSeq,
    }),
  );
  return 0;
}
