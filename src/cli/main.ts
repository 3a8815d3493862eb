/** The creditgate command: parses the first word and hands over to that command's module. */
import { isCreditgateError } from "../errors.js";
import { type CliIO, processIO, UsageError } from "./io.js";
import { policyCommand, policyHelp } from "./policy.js";

const help = `Usage: creditgate <command> [options]

Commands:
  policy build|verify|eval|test   the policy-as-code pipeline (see \`creditgate policy --help\`)

Run \`creditgate <command> --help\` for a command's options.
`;

export async function main(argv: readonly string[], io: CliIO = processIO): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case "policy":
        return await policyCommand(args, io);
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
      (error as { code?: string }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION"
    ) {
      io.stderr(
        `creditgate: ${(error as Error).message}\n\n${command === "policy" ? policyHelp : help}`,
      );
      return 2;
    }
    if (isCreditgateError(error)) {
      io.stderr(`creditgate: ${error.code}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
