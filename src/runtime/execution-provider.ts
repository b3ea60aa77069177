/**
 * Which onnxruntime execution provider a run uses. onnxruntime-node's linux/x64 build is compiled with CUDA
 * support, so `listSupportedBackends()` always lists `{name: 'cuda', bundled: false}`; "bundled: false" means the
 * provider libraries are not in the npm package. They are fetched by its install script into the folder of the
 * native binding (bin/napi-v6/linux/x64/: libonnxruntime_providers_cuda.so plus libonnxruntime_providers_shared.so,
 * see script/install-metadata.js), which package.json's allowScripts denies (so npm ci fetches nothing). So CUDA is
 * usable only when both files are there.
 *
 * The WebGPU provider is inside the npm package (listed `{name: 'webgpu', bundled: true}` on Linux x64), so it is
 * there whenever the build lists it; whether it runs is decided by the GPU adapter it requests when a session
 * starts (on a machine without a GPU: `Failed to get a WebGPU adapter`), so that is checked by starting one
 * (session.ts, startExecutionProvider).
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { RegraftError } from '../errors.js';
import { onnxruntimeNode } from './onnxruntime.js';

/** The providers `--ep` chooses from. */
export const EXECUTION_PROVIDERS = ['cpu', 'cuda', 'webgpu'] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];
export type GpuProvider = Exclude<ExecutionProvider, 'cpu'>;

export type ProviderProbeResult = { available: true } | { available: false; reason: string };

/** Tells whether a provider's libraries are there; injectable so tests need no GPU. */
export type ProviderProbe = (provider: GpuProvider) => ProviderProbeResult;
/** The names of the CUDA-only release, kept for API users. */
export type CudaProbeResult = ProviderProbeResult;
export type CudaProbe = ProviderProbe;

/**
 * How to get the CUDA provider. allowScripts denies onnxruntime-node's install script, and npm rebuild honours that
 * (it reports success and runs nothing), so the one-off fetch has to lift the policy for that one rebuild; without
 * an allowScripts entry (older npm, a project that never set one) the flag changes nothing.
 */
export const CUDA_INSTALL_HINT =
  'install it with `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node --dangerously-allow-all-scripts` (needs CUDA 12 and cuDNN 9)';

/**
 * WebGPU runs through Dawn, which on Linux drives the GPU through Vulkan (it says `Couldn't load Vulkan:
 * libvulkan.so.1` on stderr when there is none).
 */
export const WEBGPU_HINT = 'run on a machine with a GPU and its Vulkan driver (libvulkan.so.1 and the vendor ICD)';

/** What regraft knows of a GPU provider: its name in messages, what to do when it is missing, where its libraries are. */
export interface GpuProviderInfo {
  label: string;
  hint: string;
  /**
   * Whether the libraries the npm package does not bundle were installed beside it (CUDA's: checkCudaInstallation);
   * absent for a provider that is there only when bundled (WebGPU).
   */
  installed?: (install: CudaInstallation) => ProviderProbeResult;
}

/** Each GPU provider's description. */
export const GPU_PROVIDERS: Record<GpuProvider, GpuProviderInfo> = {
  cuda: { label: 'CUDA', hint: CUDA_INSTALL_HINT, installed: checkCudaInstallation },
  webgpu: { label: 'WebGPU', hint: WEBGPU_HINT },
};

/** The description of the GPU provider onnxruntime names `name`; undefined for CPU and the providers --ep does not offer. */
export function gpuProviderInfo(name: string): GpuProviderInfo | undefined {
  return Object.hasOwn(GPU_PROVIDERS, name) ? GPU_PROVIDERS[name as GpuProvider] : undefined;
}

/** onnxruntime-node's README: of its platforms, only Linux x64 can use CUDA. */
const CUDA_PROVIDER_LIBRARIES: Record<string, string[]> = {
  'linux/x64': ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'],
};

/** The folders holding onnxruntime-node's native binding for this platform (one per N-API version shipped). */
export function onnxruntimeBindingFolders(platform: string = process.platform, arch: string = process.arch): string[] {
  const bin = join(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')), '..', 'bin');
  if (!existsSync(bin)) return [];
  return readdirSync(bin)
    .filter((d) => d.startsWith('napi-v'))
    .map((d) => join(bin, d, platform, arch))
    .filter((d) => existsSync(d));
}

export interface CudaInstallation {
  /** `${process.platform}/${process.arch}` */
  platform: string;
  /** What onnxruntime-node's listSupportedBackends() returns. */
  backends: readonly { name: string }[];
  /** Where the native binding lives; the provider libraries must sit next to it. */
  bindingFolders: readonly string[];
}

/** Whether the CUDA provider is usable in the given installation (the pure part of the probe). */
export function checkCudaInstallation(install: CudaInstallation): CudaProbeResult {
  if (!install.backends.some((b) => b.name === 'cuda')) {
    return { available: false, reason: `this onnxruntime-node build for ${install.platform} has no CUDA support` };
  }
  const libraries = CUDA_PROVIDER_LIBRARIES[install.platform];
  if (libraries === undefined) {
    return { available: false, reason: `onnxruntime-node offers CUDA on linux/x64 only, not ${install.platform}` };
  }
  if (install.bindingFolders.some((folder) => libraries.every((lib) => existsSync(join(folder, lib))))) return { available: true };
  return { available: false, reason: `the CUDA provider library ${libraries[1]} is not installed next to onnxruntime-node's binding` };
}

export const probeInstalledCuda = (): ProviderProbeResult =>
  checkCudaInstallation({
    platform: `${process.platform}/${process.arch}`,
    backends: onnxruntimeNode().listSupportedBackends(),
    bindingFolders: onnxruntimeBindingFolders(),
  });

/** Whether the build has the WebGPU provider (the pure part of the probe; the adapter is asked for at start). */
export function checkWebgpuBuild(platform: string, backends: readonly { name: string; bundled?: boolean }[]): ProviderProbeResult {
  const webgpu = backends.find((b) => b.name === 'webgpu');
  if (webgpu === undefined) return { available: false, reason: `this onnxruntime-node build for ${platform} has no WebGPU provider` };
  if (webgpu.bundled === false) return { available: false, reason: `this onnxruntime-node build for ${platform} does not bundle its WebGPU provider` };
  return { available: true };
}

export const probeBundledWebgpu = (): ProviderProbeResult =>
  checkWebgpuBuild(`${process.platform}/${process.arch}`, onnxruntimeNode().listSupportedBackends());

/** The installed libraries of each GPU provider. */
export const probeInstalledProvider: ProviderProbe = (provider) => (provider === 'cuda' ? probeInstalledCuda() : probeBundledWebgpu());

export interface ChooseProviderOptions {
  /** Throw instead of falling back to CPU when a GPU provider is requested but unavailable. */
  strict?: boolean;
  log?: (line: string) => void;
  probe?: ProviderProbe;
}

/** The requested provider if its libraries are there, else CPU with one line saying why (an error when strict). */
export function chooseExecutionProvider(requested: ExecutionProvider, opts: ChooseProviderOptions = {}): ExecutionProvider {
  if (requested === 'cpu') return 'cpu';
  const probe = (opts.probe ?? probeInstalledProvider)(requested);
  if (probe.available) return requested;
  const { label, hint } = GPU_PROVIDERS[requested];
  if (opts.strict) throw new RegraftError(`${label} was requested but ${probe.reason}; ${hint}, or use --ep cpu`);
  opts.log?.(`${label} unavailable (${probe.reason}); running on CPU. To use the GPU, ${hint}`);
  return 'cpu';
}

/**
 * The provider list for InferenceSession.create. CPU always comes last: onnxruntime assigns each node to the first
 * provider that has a kernel for it, and some ops have no CUDA or WebGPU kernel.
 */
export function executionProvidersFor(provider: ExecutionProvider): ExecutionProvider[] {
  return provider === 'cpu' ? ['cpu'] : [provider, 'cpu'];
}
