/**
 * What a command needs from its surroundings, injectable so tests run commands in-process and read their output.
 */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** True when stdout is a terminal (progress bars) rather than a file or pipe (plain log lines). */
  isTty: boolean;
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
  isTty: Boolean(process.stdout.isTTY),
};
