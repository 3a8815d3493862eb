/** `creditgate grant`: credits to a tenant's class, through the ledger (store.grant) like the API. */
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { creditClasses, type GrantRequest } from "../ledger/types.js";
import { limits } from "../limits.js";
import { type CliIO, UsageError } from "./io.js";
import {
  configHelp,
  configOption,
  identifier,
  integer,
  json,
  loadCliConfig,
  required,
  time,
  withStore,
} from "./options.js";

export const grantHelp = `Usage: creditgate grant --tenant T --class C --amount N [options]

Grants N integer credits to tenant T's class C and prints the ledger's result as JSON. A refusal
(e.g. amount_not_positive, expires_in_past, exists_with_different_request) exits 1 with its
code on stderr. Replaying the same --key with the same request applies once and answers "exists".

Options:
  --tenant T                   tenant
  --class C                    ${creditClasses.join(", ")}
  --amount N                   integer credits
  --effective-at TIME          RFC 3339 time the credits become available (default now)
  --expires-at TIME            RFC 3339 time the remaining credits expire (default never)
  --priority N                 0 to ${limits.grantPriorityMax}; lower draws first (default 0)
  --source S                   where the credits come from (default "cli")
  --key K                      idempotency key (default a fresh random one, printed in the result)
${configHelp}
`;

export async function grantCommand(args: readonly string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      ...configOption,
      tenant: { type: "string" },
      class: { type: "string" },
      amount: { type: "string" },
      "effective-at": { type: "string" },
      "expires-at": { type: "string" },
      priority: { type: "string" },
      source: { type: "string" },
      key: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout(grantHelp);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const tenant = identifier(required(values.tenant, "tenant"), "tenant");
  const cls = required(values.class, "class");
  if (!(creditClasses as readonly string[]).includes(cls)) {
    throw new UsageError(`--class must be one of ${creditClasses.join(", ")}, got "${cls}"`);
  }
  // Any safe integer reaches the ledger, which answers amount_not_positive / amount_exceeds_max.
  const amount = integer(
    required(values.amount, "amount"),
    "amount",
    Number.MIN_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER,
  );
  const key = identifier(values.key ?? `cli-${randomUUID()}`, "key");
  const request: GrantRequest = {
    tenant,
    key,
    class: cls as GrantRequest["class"],
    amount,
    source: identifier(values.source ?? "cli", "source"),
    ...(values["effective-at"] !== undefined
      ? { effectiveAtMs: time(values["effective-at"], "effective-at") }
      : {}),
    ...(values["expires-at"] !== undefined
      ? { expiresAtMs: time(values["expires-at"], "expires-at") }
      : {}),
    ...(values.priority !== undefined
      ? { priority: integer(values.priority, "priority", 0, limits.grantPriorityMax) }
      : {}),
    audit: { via: "cli" },
  };

  const config = await loadCliConfig(io, values.config);
  const result = await withStore(config, (store) => store.grant(request));
  if (!result.ok) {
    io.stdout(json({ ok: false, code: result.code, tenant, key }));
    io.stderr(`creditgate: grant refused: ${result.code}\n`);
    return 1;
  }
  const grant = result.value;
  io.stdout(
    json({
      ok: true,
      code: result.code,
      tenant,
      key,
      grant_id: grant.grantId,
      class: grant.class,
      amount: grant.amount,
      effective_at: new Date(grant.effectiveAtMs).toISOString(),
      expires_at: grant.expiresAtMs === null ? null : new Date(grant.expiresAtMs).toISOString(),
      audit_seq: grant.auditSeq,
    }),
  );
  return 0;
}
