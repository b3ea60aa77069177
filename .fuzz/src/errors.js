/**
 * Errors users can act on. Every message is one line: what went wrong, where (file, node, tensor), and what to do.
 * The CLI prints `regraft: <message>` and exits with `exitCode`; nothing else in regraft prints stack traces.
 */
export class RegraftError extends Error {
    /** 1 for bad input or a failed check, 2 for a usage error. */
    exitCode;
    /** `options.cause`: the error it wraps (an onnxruntime failure), for callers that word their own message. */
    constructor(message, exitCode = 1, options) {
        super(message, options);
        this.name = 'RegraftError';
        this.exitCode = exitCode;
    }
}
/** A command line that cannot be understood (unknown flag, missing argument, bad flag value): exit code 2. */
export class UsageError extends RegraftError {
    constructor(message) {
        super(message, 2);
        this.name = 'UsageError';
    }
}
/** What to do about a model whose opset is too old for something regraft emits or needs. */
export const OPSET_UPGRADE_HINT = 'upgrade it with: regraft convert MODEL -o NEW.onnx --opset 17';
/** Turns anything thrown into a one-line message, for places that must not show a stack trace. */
export function describeError(err) {
    if (err instanceof Error)
        return err.message.split('\n')[0] ?? String(err);
    return String(err);
}
