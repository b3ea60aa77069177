import type { Command } from 'commander';
import type { CliIo } from './context.js';
import { registerConvert } from './convert.js';
import { registerInspect } from './inspect.js';

/** Every subcommand, in the order `regraft --help` lists them. */
export const COMMANDS: ((program: Command, io: CliIo) => void)[] = [registerInspect, registerConvert];
