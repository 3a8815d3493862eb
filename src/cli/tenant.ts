/**
 * `creditgate tenant suspend|reinstate|show`: the same status change as
 * POST /v1/tenants/{tenant}/suspend and …/reinstate, on the configured store. Every service
 * instance reads the status with each decision's snapshot, so the next decision anywhere sees it.
 */
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { tenantInfoJson } from "../ledger/tenant-info.js";
import type { TenantStatus, TenantStatusRequest } from "../ledger/types.js";
import { limits } from "../limits.js";
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

export const tenantHelp = `Usage: creditgate tenant suspend|reinstate --tenant T --reason R [options]
       creditgate tenant show --tenant T [options]

suspend: from the next decision on, every decision of tenant T is denied (TENANT_SUSPENDED).
reinstate: the tenant's decisions are evaluated as before. Both are audited (kind tenant_status,
with --actor and --reason); replaying the same --key answers "exists". show prints the status.

Options:
  --tenant T                   tenant
  --reason R                   why, for the audit trail (1 to ${limits.ledgerKeyCharsMax} characters)
  --actor A                    who, for the audit trail (default $USER, else "cli")
  --key K                      idempotency key (default a fresh random one, printed in the result)
${configHelp}
`;

const verbs: Readonly<Record<string, TenantStatus>> = { suspend: "suspended", reinstate: "active" };

export async function tenantCommand(args: readonly string[], io: CliIO): Promise<number> {
  const [verb, ...rest] = args;
  if (verb === "--help" || verb === "-h") {
    io.stdout(tenantHelp);
    return 0;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      ...configOption,
      tenant: { type: "string" },
      reason: { type: "string" },
      actor: { type: "string" },
      key: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout(tenantHelp);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const tenant = identifier(required(values.tenant, "tenant"), "tenant");
  if (verb === "show") {
    const config = await loadCliConfig(io, values.config);
    io.stdout(json(tenantInfoJson(await withStore(config, (store) => store.tenantInfo(tenant)))));
    return 0;
  }
  const status = verb === undefined ? undefined : verbs[verb];
  if (status === undefined) {
    throw new UsageError(`tenant needs suspend, reinstate or show, got "${verb ?? ""}"`);
  }
  const request: TenantStatusRequest = {
    tenant,
    key: identifier(values.key ?? `cli-${randomUUID()}`, "key"),
    status,
    reason: identifier(required(values.reason, "reason"), "reason"),
    audit: {
      via: "cli",
      actor: { kind: "cli", id: identifier(values.actor ?? io.env.USER ?? "cli", "actor") },
    },
  };
  const config = await loadCliConfig(io, values.config);
  const result = await withStore(config, (store) => store.setTenantStatus(request));
  if (!result.ok) {
    io.stdout(json({ ok: false, code: result.code, tenant, key: request.key }));
    io.stderr(`creditgate: tenant status change refused: ${result.code}\n`);
    return 1;
  }
  const v = result.value;
  io.stdout(
    json({
      ok: true,
      code: result.code,
      key: request.key,
      ...tenantInfoJson({ tenant, status: v.status, sinceMs: v.sinceMs, reason: v.reason }),
      previous_status: v.previousStatus,
      changed: v.changed,
      audit_seq: v.auditSeq,
    }),
  );
  return 0;
}
