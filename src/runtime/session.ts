import type { InferenceSession } from 'onnxruntime-node';
import { describeError, RegraftError } from '../errors.js';
import {
  chooseExecutionProvider,
  executionProvidersFor,
  GPU_PROVIDERS,
  type ExecutionProvider,
  type ProviderProbe,
} from './execution-provider.js';
import { onnxruntimeNode, type Tensor } from './onnxruntime.js';
import { probeModelBytes } from './probe-model.js';

export interface SessionOptions {
  /** Requested provider, default 'cpu'. 'cuda' and 'webgpu' fall back to CPU with a logged line unless `strict`. */
  ep?: ExecutionProvider;
  strict?: boolean;
  /**
   * Threads inside one op, default 1. Training steps at small batch sizes are dominated by per-op overhead, where
   * extra threads mostly add synchronisation cost and run-to-run timing noise (and share cores with other
   * trials); raise it for large batches or models.
   */
  intraOpThreads?: number;
  /** Threads running independent ops in parallel, default 1 (ops then run sequentially). */
  interOpThreads?: number;
  log?: (line: string) => void;
  /** Names the model in messages when it is given as bytes. */
  name?: string;
  /**
   * onnxruntime's memory pattern, default on: after the first run it plans one block for all intermediate values
   * and allocates that block whole on every run (see STEP_SESSION_OPTIONS for why training steps turn it off).
   */
  memoryPattern?: boolean;
  /** Overrides the check of the GPU provider's libraries (tests). */
  probe?: ProviderProbe;
}

export type Feeds = Record<string, Tensor>;
export type Fetches = Record<string, Tensor>;

/** An onnxruntime session with regraft's error handling: every failure is a one-line RegraftError naming the model. */
export interface Session {
  readonly name: string;
  readonly provider: ExecutionProvider;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** The declared dims of an input (numbers, or strings for symbolic dims; [] when the model gives no shape). */
  inputDims(inputName: string): (number | string)[];
  /** Runs the model; `fetches` limits the outputs computed and returned (default: all). */
  run(feeds: Feeds, fetches?: readonly string[]): Promise<Fetches>;
  release(): Promise<void>;
}

function ortOptions(provider: ExecutionProvider, opts: SessionOptions): InferenceSession.SessionOptions {
  const intra = opts.intraOpThreads ?? 1;
  const inter = opts.interOpThreads ?? 1;
  for (const [flag, n] of [['intraOpThreads', intra], ['interOpThreads', inter]] as const) {
    if (!Number.isInteger(n) || n < 0) throw new RegraftError(`${flag} ${n} must be a whole number (0 lets onnxruntime choose)`);
  }
  return {
    executionProviders: executionProvidersFor(provider),
    graphOptimizationLevel: 'all',
    intraOpNumThreads: intra,
    interOpNumThreads: inter,
    executionMode: inter > 1 ? 'parallel' : 'sequential',
    enableMemPattern: opts.memoryPattern ?? true,
    // Errors only: compiled training steps keep parameters both as inputs and initializers, which onnxruntime
    // reports as a warning per parameter.
    logSeverityLevel: 3,
  };
}

/**
 * The first line of onnxruntime's error without the source location its checks prefix (`/onnxruntime_src/...cc:136
 * <function> <condition> was false. Failed to get a WebGPU adapter: ...` becomes `Failed to get a WebGPU adapter: ...`).
 */
export function startFailureReason(err: unknown): string {
  return describeError(err).replace(/^\S+\.(?:cc|cpp|h):\d+ .*? was false\. /, '').trim();
}

/**
 * Opens the model on the chosen provider; if a GPU provider was chosen but fails to start (no GPU adapter; driver,
 * CUDA or cuDNN missing), retries on CPU unless strict. `open` is injectable so the fallback is testable without a GPU.
 */
export async function openWithFallback<T>(
  provider: ExecutionProvider,
  open: (provider: ExecutionProvider) => Promise<T>,
  modelName: string,
  opts: Pick<SessionOptions, 'strict' | 'log'>,
): Promise<{ handle: T; provider: ExecutionProvider }> {
  try {
    return { handle: await open(provider), provider };
  } catch (err) {
    if (provider !== 'cpu') {
      const { label, hint } = GPU_PROVIDERS[provider];
      const reason = startFailureReason(err);
      if (opts.strict) throw new RegraftError(`${label} failed to start for ${modelName}: ${reason}; ${hint}, or use --ep cpu`);
      opts.log?.(`${label} failed to start for ${modelName} (${reason}); running on CPU`);
      return openWithFallback('cpu', open, modelName, opts);
    }
    if (err instanceof RegraftError) throw err;
    throw new RegraftError(`onnxruntime cannot load model ${modelName}: ${describeError(err)}; check that it is a valid ONNX model`, 1, { cause: err });
  }
}

/**
 * The provider a run will use: the requested one if its libraries are there and a one-node model starts on it,
 * else CPU with one line saying why (an error when strict). A run asks this once, before it writes anything, so the
 * fallback line is printed once and --strict fails before the run directory exists.
 */
export async function startExecutionProvider(requested: ExecutionProvider, opts: Pick<SessionOptions, 'strict' | 'log' | 'probe'> = {}): Promise<ExecutionProvider> {
  const chosen = chooseExecutionProvider(requested, opts);
  if (chosen === 'cpu') return 'cpu';
  const { InferenceSession } = onnxruntimeNode();
  const { handle, provider } = await openWithFallback(
    chosen,
    (p) => InferenceSession.create(probeModelBytes(), { executionProviders: executionProvidersFor(p), logSeverityLevel: 3 }),
    'a one-node test model',
    opts,
  );
  await handle.release();
  return provider;
}

export async function createSession(model: Uint8Array | string, opts: SessionOptions = {}): Promise<Session> {
  const name = typeof model === 'string' ? model : (opts.name ?? '<in-memory model>');
  // First: a missing or half-installed onnxruntime-node is reported as such, not as a model that failed to load.
  const { InferenceSession } = onnxruntimeNode();
  const chosen = chooseExecutionProvider(opts.ep ?? 'cpu', { strict: opts.strict, log: opts.log, probe: opts.probe });
  const { handle, provider } = await openWithFallback(
    chosen,
    (p) =>
      typeof model === 'string'
        ? InferenceSession.create(model, ortOptions(p, opts))
        : InferenceSession.create(model, ortOptions(p, opts)),
    name,
    opts,
  );
  return new OrtSession(handle, name, provider);
}

class OrtSession implements Session {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];

  constructor(
    private readonly session: InferenceSession,
    readonly name: string,
    readonly provider: ExecutionProvider,
  ) {
    this.inputNames = session.inputNames;
    this.outputNames = session.outputNames;
  }

  inputDims(inputName: string): (number | string)[] {
    const meta = this.session.inputMetadata.find((m) => m.name === inputName);
    if (meta === undefined) {
      throw new RegraftError(`model ${this.name} has no input '${inputName}'; its inputs are ${this.inputNames.join(', ')}`);
    }
    return meta.isTensor ? [...meta.shape] : [];
  }

  async run(feeds: Feeds, fetches?: readonly string[]): Promise<Fetches> {
    try {
      return await (fetches === undefined ? this.session.run(feeds) : this.session.run(feeds, fetches));
    } catch (err) {
      throw new RegraftError(`onnxruntime failed to run model ${this.name}: ${describeError(err)}`, 1, { cause: err });
    }
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
