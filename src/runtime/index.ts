export {
  chooseExecutionProvider,
  executionProvidersFor,
  probeInstalledCuda,
  checkCudaInstallation,
  onnxruntimeBindingFolders,
  type CudaInstallation,
  CUDA_INSTALL_HINT,
  type ExecutionProvider,
  type CudaProbe,
  type CudaProbeResult,
  type ChooseProviderOptions,
} from './execution-provider.js';
export { createSession, type Session, type SessionOptions, type Feeds, type Fetches } from './session.js';
export { ortFloatTensor, ortInt64Tensor, scalar } from './tensors.js';
