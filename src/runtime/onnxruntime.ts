/**
 * The one place regraft loads onnxruntime. Tensors come from onnxruntime-common (plain JavaScript, the very class
 * onnxruntime-node re-exports); onnxruntime-node itself, whose import loads a native binding, is loaded on first
 * use: the first session or execution-provider probe. So `import 'regraft'` and commands that run no model work
 * without it, and a missing or half-installed onnxruntime-node is one RegraftError saying what to do, not a stack
 * trace from inside its loader.
 *
 * Both packages are loaded with require: onnxruntime-common ships separate CommonJS and ES builds, and
 * onnxruntime-node requires the CommonJS one, whose Tensor class its binding creates outputs with. Importing the ES
 * build here would give a second, different Tensor class.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Tensor as OrtTensor, TensorConstructor } from 'onnxruntime-common';
import { describeError, RegraftError } from '../errors.js';

const require = createRequire(import.meta.url);

/** The version regraft depends on (package.json pins onnxruntime-node and onnxruntime-common to it). */
export const ONNXRUNTIME_VERSION = '1.30.0';

export const Tensor: TensorConstructor = loadTensorClass();
export type Tensor = OrtTensor;

export type OnnxruntimeNode = typeof import('onnxruntime-node');

/** onnxruntime-node's InferenceSession, loaded on the first `create`. */
export const InferenceSession = {
  create: ((...args: unknown[]) => (onnxruntimeNode().InferenceSession.create as (...a: unknown[]) => unknown)(...args)) as OnnxruntimeNode['InferenceSession']['create'],
};
export type InferenceSession = import('onnxruntime-node').InferenceSession;

function loadTensorClass(): TensorConstructor {
  try {
    return (require('onnxruntime-common') as typeof import('onnxruntime-common')).Tensor;
  } catch (err) {
    throw new RegraftError(`onnxruntime-common cannot be loaded (${firstLine(err)}); run \`npm install\` in your project to restore regraft's dependencies`);
  }
}

/** Where onnxruntime-node's native binding sits inside its package, for a platform and architecture. */
export function bindingFile(packageDir: string, platform: string = process.platform, arch: string = process.arch): string {
  return join(packageDir, 'bin', 'napi-v6', platform, arch, 'onnxruntime_binding.node');
}

/** The folder onnxruntime-node resolves to from here, or undefined when it is not installed. */
function resolvePackageDir(): string | undefined {
  try {
    return dirname(require.resolve('onnxruntime-node/package.json'));
  } catch {
    return undefined;
  }
}

/** The `platform/arch` pairs whose native binding the installed package holds. */
function shippedPlatforms(packageDir: string): string[] {
  const napi = join(packageDir, 'bin', 'napi-v6');
  const list = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir) : []);
  return list(napi).flatMap((platform) =>
    list(join(napi, platform))
      .filter((arch) => existsSync(bindingFile(packageDir, platform, arch)))
      .map((arch) => `${platform}/${arch}`),
  );
}

function firstLine(err: unknown): string {
  return describeError(err).split('\n')[0]!.trim();
}

/**
 * One line saying why onnxruntime-node would not load and what to do, from what is on disk: not installed, its
 * native binding missing (a half-finished or pruned install), no binding for this platform, or a binding that fails
 * to load (e.g. a shared library beside it missing).
 */
export function explainLoadFailure(
  err: unknown,
  packageDir: string | undefined,
  { platform = process.platform as string, arch = process.arch as string, searchedFrom = dirname(fileURLToPath(import.meta.url)) } = {},
): string {
  if (packageDir === undefined) {
    return `onnxruntime-node, which regraft runs models with, is not installed (looked for it from ${searchedFrom}); run \`npm install\` in your project to restore regraft's dependencies (it needs onnxruntime-node@${ONNXRUNTIME_VERSION})`;
  }
  let version = '?';
  try {
    version = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).version;
  } catch {
    // an unreadable package.json is itself a half-install; the binding check below says what to do
  }
  const reinstall = `reinstall it with \`rm -rf ${packageDir} && npm install\``;
  const binding = bindingFile(packageDir, platform, arch);
  if (!existsSync(binding)) {
    // The platform's folder without its binding is a damaged install; no folder while others have theirs is a
    // platform the package does not support.
    const shipped = shippedPlatforms(packageDir);
    if (!existsSync(dirname(binding)) && shipped.length > 0) {
      return `onnxruntime-node@${version} has no native binding for ${platform}/${arch} (it ships ${shipped.join(', ')}), so regraft cannot run models on this machine`;
    }
    return `onnxruntime-node@${version} at ${packageDir} is half-installed: its native binding ${relative(packageDir, binding)} is missing; ${reinstall}`;
  }
  return `onnxruntime-node@${version} at ${packageDir} cannot be loaded (${firstLine(err)}); ${reinstall}`;
}

let loaded: OnnxruntimeNode | undefined;

/** onnxruntime-node, loaded on first call; throws a one-line RegraftError when it cannot be. */
export function onnxruntimeNode(): OnnxruntimeNode {
  if (loaded === undefined) {
    try {
      loaded = require('onnxruntime-node') as OnnxruntimeNode;
    } catch (err) {
      throw new RegraftError(explainLoadFailure(err, resolvePackageDir()));
    }
  }
  return loaded;
}
