/** `creditgate config check|docs`: the configuration as `serve` would load it, and its reference. */
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { redactConfig } from "../config/redact.js";
import { renderConfigReference } from "../config/reference.js";
import { CreditgateError } from "../errors.js";
import type { SchemaViolation } from "../schema-registry.js";
import { type CliIO, UsageError } from "./io.js";
import { configHelp, configOption, loadCliConfig } from "./options.js";

export const configCommandHelp = `Usage: creditgate config <command> [options]

Commands:
  check                        load and validate the configuration exactly as \`serve\` does;
                               print the effective configuration (defaults applied, secrets
                               redacted) and exit 0, or every problem and exit 1
  docs                         print the configuration reference (docs/config.md) as Markdown

Options:
${configHelp}
`;

function isViolationList(value: unknown): value is SchemaViolation[] {
  return (
    Array.isArray(value) && value.every((v) => typeof (v as SchemaViolation).path === "string")
  );
}

export async function configCommand(args: readonly string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: { ...configOption, help: { type: "boolean", short: "h" } },
  });
  const [command, ...rest] = positionals;
  if (values.help || command === undefined) {
    io.stdout(configCommandHelp);
    return values.help ? 0 : 2;
  }
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  switch (command) {
    case "check": {
      const source = values.config ?? io.env.CREDITGATE_CONFIG;
      let config: unknown;
      try {
        config = await loadCliConfig(io, values.config);
      } catch (error) {
        const violations = error instanceof CreditgateError ? error.details.violations : undefined;
        if (!(error instanceof CreditgateError) || !isViolationList(violations)) throw error;
        // One problem per line, so a long list reads as a list.
        io.stderr(
          `creditgate: ${error.code}: ${violations.length} problem${violations.length === 1 ? "" : "s"} in the configuration${source ? ` (${source})` : ""}:\n` +
            violations.map((v) => `  ${v.path === "" ? "/" : v.path}: ${v.message}\n`).join(""),
        );
        return 1;
      }
      io.stdout(
        `# creditgate effective configuration: ${source ? source : "built-in defaults"}, then the environment; secrets redacted\n` +
          stringify(redactConfig(config)),
      );
      io.stderr("configuration is valid\n");
      return 0;
    }
    case "docs":
      io.stdout(renderConfigReference());
      return 0;
    default:
      throw new UsageError(`unknown config command "${command}"`);
  }
}
