// Types of fresh-clone-check.mjs, for the tests that import it.

/** The README's commands the check runs, in order. */
export const README_COMMANDS: string[][];
/** Names a Chromium or Chrome binary goes by on a PATH. */
export const CHROMIUM_NAMES: string[];
/** npm's and Node's warning lines in some output. */
export function warningLines(output: string): string[];
/** PATH with every Chromium binary hidden behind folders of links made under `scratch`. */
export function pathWithoutChromium(path: string, scratch: string): string;
/** A newcomer's environment: no CHROMIUM, no inherited npm settings, a PATH without Chromium. */
export function newcomerEnv(env: NodeJS.ProcessEnv, scratch: string): NodeJS.ProcessEnv;
