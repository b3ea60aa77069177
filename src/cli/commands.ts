import type { Command } from 'commander';
import type { CliIo } from './context.js';
import { registerCompile } from './compile.js';
import { registerConvert } from './convert.js';
import { registerDropout } from './dropout.js';
import { registerEval } from './eval.js';
import { registerExport } from './export.js';
import { registerGradcheck } from './gradcheck.js';
import { registerHead } from './head.js';
import { registerInspect } from './inspect.js';
import { registerRun } from './run.js';
import { registerStrip } from './strip.js';
import { registerTrain } from './train.js';
import { registerTune } from './tune.js';

/** Every subcommand, in the order `regraft --help` lists them. */
export const COMMANDS: ((program: Command, io: CliIo) => void)[] = [
  registerInspect,
  registerConvert,
  registerDropout,
  registerStrip,
  registerHead,
  registerCompile,
  registerGradcheck,
  registerTrain,
  registerExport,
  registerEval,
  registerRun,
  registerTune,
];
