export {
  chooseExecutionProvider,
  executionProvidersFor,
  probeInstalledCuda,
  probeBundledWebgpu,
  probeInstalledProvider,
  checkCudaInstallation,
  checkWebgpuBuild,
  EXECUTION_PROVIDERS,
  GPU_PROVIDERS,
  WEBGPU_HINT,
  onnxruntimeBindingFolders,
  type CudaInstallation,
  CUDA_INSTALL_HINT,
  type ExecutionProvider,
  type CudaProbe,
  type CudaProbeResult,
  type GpuProvider,
  type ProviderProbe,
  type ProviderProbeResult,
  type ChooseProviderOptions,
} from './execution-provider.js';
export { createSession, startExecutionProvider, type Session, type SessionOptions, type Feeds, type Fetches } from './session.js';
export { ortFloatTensor, ortInt64Tensor, scalar } from './tensors.js';
