/** The creditgate command: parses the first word and hands over to that command's module. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isCreditgateError } from "../errors.js";
import { packageRoot } from "../paths.js";
import { auditCommand, auditHelp } from "./audit.js";
import { balancesCommand, balancesHelp } from "./balances.js";
import { configCommand, configCommandHelp } from "./config.js";
import { grantCommand, grantHelp } from "./grant.js";
import { type CliIO, processIO, UsageError } from "./io.js";
import { keysCommand, keysHelp } from "./keys.js";
import { policyCommand, policyHelp } from "./policy.js";
import { revokeCommand, revokeHelp } from "./revoke.js";
import { serveCommand, serveHelp } from "./serve.js";
import { tenantCommand, tenantHelp } from "./tenant.js";
import { tokenCommand, tokenHelp } from "./token.js";

const help = `Usage: creditgate <command> [options]

Commands:
  serve                           run the decision service (HTTP API)
  config check|docs               validate the configuration and print it (secrets redacted);
                                  print the configuration reference
  policy build|promote|verify|eval|test
                                  the policy-as-code pipeline (see \`creditgate policy --help\`)
  token                           DEVELOPMENT ONLY: mint a token from the development issuer
  grant                           grant credits to a tenant's class through the ledger
  balances                        a tenant's available, posted and held credits per class
  revoke                          revoke a principal, token, task, tenant or grant
  tenant suspend|reinstate|show   suspend or reinstate a tenant (every decision denied meanwhile)
  audit verify|export             verify the audit hash chain; export it as JSON Lines
  keys rotate|list                rotate and list the keys task tokens are signed with

Run \`creditgate <command> --help\` for a command's options; \`creditgate --version\` (or -v)
prints the version.
`;

/** The version of the installed package, from its package.json. */
function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as {
    version?: unknown;
  };
  return typeof manifest.version === "string" ? manifest.version : "unknown";
}

/** The help printed after a usage mistake: the command's own, else the overview. */
function commandHelp(command: string | undefined): string {
  switch (command) {
    case "serve":
      return serveHelp;
    case "config":
      return configCommandHelp;
    case "policy":
      return policyHelp;
    case "token":
      return tokenHelp;
    case "grant":
      return grantHelp;
    case "balances":
      return balancesHelp;
    case "revoke":
      return revokeHelp;
    case "tenant":
      return tenantHelp;
    case "audit":
      return auditHelp;
    case "keys":
      return keysHelp;
    default:
      return help;
  }
}

export async function main(argv: readonly string[], io: CliIO = processIO): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case "serve":
        return await serveCommand(args, io);
      case "config":
        return await configCommand(args, io);
      case "policy":
        return await policyCommand(args, io);
      case "token":
        return await tokenCommand(args, io);
      case "grant":
        return await grantCommand(args, io);
      case "balances":
        return await balancesCommand(args, io);
      case "revoke":
        return await revokeCommand(args, io);
      case "tenant":
        return await tenantCommand(args, io);
      case "audit":
        return await auditCommand(args, io);
      case "keys":
        return await keysCommand(args, io);
      case "--version":
      case "-v":
        io.stdout(`${packageVersion()}\n`);
        return 0;
      case undefined:
      case "help":
      case "--help":
      case "-h":
        io.stdout(help);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (
      error instanceof UsageError ||
      String((error as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS_")
    ) {
      io.stderr(`creditgate: ${(error as Error).message}\n\n${commandHelp(command)}`);
      return 2;
    }
    if (isCreditgateError(error)) {
      io.stderr(`creditgate: ${error.code}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
