import { Command, CommanderError } from 'commander';
import { RegraftError, describeError } from '../errors.js';
import { processIo, type CliIo } from './context.js';
import { COMMANDS } from './commands.js';

const VERSION = '0.1.0';

/** Builds the `regraft` program; every subcommand module registers itself through COMMANDS. */
export function buildProgram(io: CliIo): Command {
  const program = new Command('regraft')
    .description('Turn ONNX models into regularized training steps, train them with onnxruntime, and export lean inference models.')
    .version(VERSION)
    .showHelpAfterError(false)
    .configureOutput({
      writeOut: (s) => io.out(s.replace(/\n$/, '')),
      writeErr: (s) => io.err(s.replace(/\n$/, '')),
      // Usage errors read like every other error: one line, then where to look.
      // Commander puts its suggestion on a line of its own: "unknown option '--batchsize'\n(Did you mean --batch-size?)".
      outputError: (s, write) => write(`regraft: ${oneLine(s)} (see 'regraft --help')\n`),
    })
    .exitOverride();
  for (const register of COMMANDS) register(program, io);
  return program;
}

function oneLine(commanderMessage: string): string {
  return commanderMessage
    .replace(/^error: /, '')
    .trim()
    .replace(/\s*\n\(Did you mean (.+)\?\)/, '; did you mean $1?')
    .replace(/\s*\n\s*/g, ' ');
}

/**
 * Runs the CLI and returns the exit code: 0 success, 1 bad input or failed check, 2 usage error. Errors are printed
 * as one line; a stack trace is shown only with REGRAFT_DEBUG=1.
 */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with exit code 0; commander already printed its message.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (process.env.REGRAFT_DEBUG === '1' && err instanceof Error) io.err(err.stack ?? String(err));
    io.err(`regraft: ${describeError(err)}`);
    return err instanceof RegraftError ? err.exitCode : 1;
  }
}
