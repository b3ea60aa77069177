import type { Command } from 'commander';
import type { CliIo } from './context.js';

/** Every subcommand, in the order `regraft --help` lists them. */
export const COMMANDS: ((program: Command, io: CliIo) => void)[] = [];
