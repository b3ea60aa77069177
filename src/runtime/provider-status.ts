/**
 * What `regraft inspect --providers` lists: every execution provider onnxruntime-node's build knows
 * (`listSupportedBackends()`), whether its libraries are in the package or installed beside it, and, for those
 * `--ep` offers, whether a one-node model starts on it on this machine (and if not, onnxruntime's reason).
 */
import { EXECUTION_PROVIDERS, gpuProviderInfo, onnxruntimeBindingFolders, type ExecutionProvider } from './execution-provider.js';
import { ONNXRUNTIME_VERSION, onnxruntimeNode } from './onnxruntime.js';
import { probeModelBytes } from './probe-model.js';
import { startFailureReason } from './session.js';

export interface ProviderStatus {
  name: string;
  /** In the npm package, installed beside its binding afterwards, or neither. */
  libraries: 'bundled' | 'installed' | 'not installed';
  /** Whether `--ep` offers it. */
  offered: boolean;
  /** Whether a one-node model started on it (only asked of offered providers whose libraries are there). */
  starts?: boolean;
  /** Why it does not start or is not there, and what to do; empty when it starts. */
  detail: string;
}

export interface ProviderReport {
  onnxruntime: string;
  platform: string;
  providers: ProviderStatus[];
}

/** Starts the probe model on one provider alone; rejects with onnxruntime's error when it cannot. */
export type StartProvider = (provider: ExecutionProvider) => Promise<void>;

const startAlone: StartProvider = async (provider) => {
  const session = await onnxruntimeNode().InferenceSession.create(probeModelBytes(), { executionProviders: [provider], logSeverityLevel: 3 });
  await session.release();
};

export async function providerReport(
  opts: { backends?: readonly { name: string; bundled: boolean }[]; platform?: string; start?: StartProvider; bindingFolders?: readonly string[] } = {},
): Promise<ProviderReport> {
  const platform = opts.platform ?? `${process.platform}/${process.arch}`;
  const backends = opts.backends ?? onnxruntimeNode().listSupportedBackends();
  const start = opts.start ?? startAlone;
  const providers: ProviderStatus[] = [];
  for (const { name, bundled } of backends) {
    const offered = (EXECUTION_PROVIDERS as readonly string[]).includes(name);
    const gpu = gpuProviderInfo(name);
    let libraries: ProviderStatus['libraries'] = bundled ? 'bundled' : 'not installed';
    let detail = '';
    if (!bundled && gpu?.installed) {
      const found = gpu.installed({ platform, backends, bindingFolders: opts.bindingFolders ?? onnxruntimeBindingFolders() });
      if (found.available) libraries = 'installed';
      else detail = `${found.reason}; ${gpu.hint}`;
    }
    if (!offered) {
      providers.push({ name, libraries, offered, detail: 'regraft --ep does not offer it' });
      continue;
    }
    if (libraries === 'not installed') {
      providers.push({ name, libraries, offered, detail });
      continue;
    }
    const provider = name as ExecutionProvider;
    try {
      await start(provider);
      providers.push({ name, libraries, offered, starts: true, detail: '' });
    } catch (err) {
      const hint = gpu ? `; ${gpu.hint}` : '';
      providers.push({ name, libraries, offered, starts: false, detail: `${startFailureReason(err)}${hint}` });
    }
  }
  return { onnxruntime: ONNXRUNTIME_VERSION, platform, providers };
}

export function formatProviderReport(r: ProviderReport): string[] {
  const width = Math.max(...r.providers.map((p) => p.name.length));
  return [
    `execution providers of onnxruntime-node ${r.onnxruntime} (${r.platform}):`,
    ...r.providers.map((p) => {
      const state = p.starts === true ? 'starts' : p.starts === false ? `does not start: ${p.detail}` : p.detail;
      return `  ${p.name.padEnd(width)}  ${p.libraries.padEnd(13)}  ${state}`;
    }),
  ];
}
