/** `creditgate token`: DEVELOPMENT ONLY, a token from the committed development issuer. */
import { parseArgs } from "node:util";
import { CreditgateError } from "../errors.js";
import { mintDevToken } from "../identity/index.js";
import { limits } from "../limits.js";
import { type CliIO, UsageError } from "./io.js";
import {
  configHelp,
  configOption,
  identifier,
  integer,
  list,
  loadCliConfig,
  required,
} from "./options.js";

export const tokenHelp = `Usage: creditgate token --sub S --tenant T --plan P [options]

DEVELOPMENT ONLY: prints a token signed by the development issuer (keys/dev), which anyone can
mint. Refused (DEV_ISSUER_DISABLED) unless the configuration trusts it (identity.dev_issuer).

Options:
  --sub S                      subject (principal id)
  --tenant T                   tenant claim
  --plan P                     plan claim
  --kind user|workload         principal kind (default user)
  --admin                      mint from the admin issuer and add the admin role (user only);
                               such an admin acts only on its --tenant
  --platform                   with --admin: add the platform admin role (identity.
                               platform_admin_role, default platform-admin): every tenant
  --roles a,b                  roles, comma-separated
  --scopes x,y                 scopes, comma-separated
  --ttl SECONDS                lifetime, 1 to ${limits.tokenMaxAgeSecondsMax} (default 3600)
${configHelp}
`;

export async function tokenCommand(args: readonly string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      ...configOption,
      sub: { type: "string" },
      tenant: { type: "string" },
      plan: { type: "string" },
      kind: { type: "string" },
      admin: { type: "boolean" },
      platform: { type: "boolean" },
      roles: { type: "string" },
      scopes: { type: "string" },
      ttl: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout(tokenHelp);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const sub = identifier(required(values.sub, "sub"), "sub");
  const tenant = identifier(required(values.tenant, "tenant"), "tenant");
  const plan = identifier(required(values.plan, "plan"), "plan");
  const kind = values.kind ?? "user";
  if (kind !== "user" && kind !== "workload") {
    throw new UsageError(`--kind must be user or workload, got "${kind}"`);
  }
  if (values.admin && kind !== "user") throw new UsageError("--admin tokens are user tokens");
  if (values.platform && !values.admin) throw new UsageError("--platform needs --admin");
  const ttlSeconds =
    values.ttl === undefined ? 3_600 : integer(values.ttl, "ttl", 1, limits.tokenMaxAgeSecondsMax);

  const config = await loadCliConfig(io, values.config);
  if (!config.identity.dev_issuer) {
    throw new CreditgateError("DEV_ISSUER_DISABLED");
  }
  const token = await mintDevToken({
    sub,
    tenant,
    plan,
    kind,
    roles: list(values.roles),
    scopes: list(values.scopes),
    ttlSeconds,
    admin: values.admin ?? false,
    platform: values.platform ?? false,
    ...(config.identity.platform_admin_role === undefined
      ? {}
      : { platformAdminRole: config.identity.platform_admin_role }),
  });
  io.stdout(`${token}\n`);
  return 0;
}
