/**
 * Errors users can act on. Every message is one line: what went wrong, where (file, node, tensor), and what to do.
 * The CLI prints `regraft: <message>` and exits with `exitCode`; nothing else in regraft prints stack traces.
 */
export class RegraftError extends Error {
  /** 1 for bad input or a failed check, 2 for a usage error. */
  readonly exitCode: number;

  /** `options.cause`: the error it wraps (an onnxruntime failure), for callers that word their own message. */
  constructor(message: string, exitCode = 1, options?: ErrorOptions) {
    super(escapeControlCharacters(message), options);
    this.name = 'RegraftError';
    this.exitCode = exitCode;
  }
}

/**
 * Messages name things read from files (node names, op types, tensor names), and a damaged or hostile model can put
 * a newline, a carriage return or a terminal escape in one: escaped here (`\n`, `\u001b`), the message stays one
 * line on the terminal, in logs and in the `regraft: ...` line, whoever wrote it.
 */
function escapeControlCharacters(message: string): string {
  return message.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => {
    const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
    return named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/** A command line that cannot be understood (unknown flag, missing argument, bad flag value): exit code 2. */
export class UsageError extends RegraftError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
}

/** What to do about a model whose opset is too old for something regraft emits or needs. */
export const OPSET_UPGRADE_HINT = 'upgrade it with: regraft convert MODEL -o NEW.onnx --opset 17';

/** Turns anything thrown into a one-line message, for places that must not show a stack trace. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0] ?? String(err);
  return String(err);
}
