import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/context.js';

export interface CliRun {
  code: number;
  out: string[];
  err: string[];
}

/** Runs the CLI in-process with captured output. */
export async function runCli(...argv: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), isTty: false };
  const code = await main(argv, io);
  return { code, out, err };
}
