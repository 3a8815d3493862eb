/** Where a command writes; injectable so tests run commands in-process and read their output. */
export interface CliIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

export const processIO: CliIO = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
};

/** A usage mistake: exit code 2 and the command's help, never a stack trace. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}
