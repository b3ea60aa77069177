/**
 * regraft against PyTorch on CPU (issue 15's five workloads: `vs-pytorch`; issue 12's BERT-like classifier:
 * `transformer`). bench/pytorch/workloads.py builds each network in PyTorch, exports it to ONNX once per run into a
 * temp dir, with its weights and data; then each run trains the same network from the same weights on the same data,
 * regraft from the ONNX (bench/vs-pytorch-worker.ts) and PyTorch from the module, each in its own process (so peak
 * RSS is the run's own), alternating which goes first, for 3 rounds at 1 and 2 threads. A run's rate is its last
 * epoch's samples/s (the first two warm up: page faults, JIT, arenas); the table gives each side's median over the rounds.
 *
 * PyTorch comes from the Python in REGRAFT_TORCH_PYTHON (default python3); without it the section prints how to
 * make such a venv and stops.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
/** The script is read from the sources: the bench build copies no .py files. */
const WORKLOADS_PY = join(here, '..', '..', 'bench', 'pytorch', 'workloads.py');
const WORKER = join(here, 'vs-pytorch-worker.js');

export const VS_PYTORCH_WORKLOADS = ['mlp-32', 'mlp-128', 'lenet', 'resnet18', 'transformer'];
export const TRANSFORMER_WORKLOADS = ['bert'];
const LABELS: Record<string, string> = {
  'mlp-32': 'MLP 784-128-10, Dropout 0.5, Adam, batch 32',
  'mlp-128': 'same, batch 128',
  lenet: 'LeNet-5, batch 64',
  resnet18: 'ResNet-18 (10 classes, 32x32, BatchNorm training), batch 32',
  transformer: 'transformer encoder (2 layers, d 128, 4 heads, T 64), batch 32',
  bert: 'BERT-like classifier (2 layers, hidden 128, 4 heads, T 64; input_ids + attention_mask), batch 32',
};
const ROUNDS = 3;
const THREADS = [1, 2];
const EPOCHS = 3;
const TARGET = 1.0;

interface RunResult {
  samples_per_sec: number[];
  train_loss: number[];
  peak_rss: number;
}

function exec(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(cmd, args, { env, maxBuffer: 64 << 20, timeout: 30 * 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      done({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

const PYTHON_ENV = 'REGRAFT_TORCH_PYTHON';

/** How to make the venv this section needs, with this machine's pip indexes (as test/python.ts finds them). */
export function torchVenvHint(python: string, problem: string): string {
  const venv = '/tmp/regraft-torch-venv';
  return [
    `PyTorch is not available from ${python} (${problem}). Make a venv with PyTorch and point ${PYTHON_ENV} at it:`,
    `  python3 -m venv ${venv}`,
    `  ${venv}/bin/pip install --index-url file:///opt/pypi/simple --extra-index-url file:///opt/pypi-more/simple torch==2.13.* numpy onnx onnxscript transformers`,
    `  ${PYTHON_ENV}=${venv}/bin/python npm run bench -- vs-pytorch transformer`,
    '(use the indexes `pip config list` shows on your machine; on a machine with internet access plain `pip install torch numpy onnx onnxscript transformers` does)',
  ].join('\n');
}

/** PyTorch's version, or why the interpreter cannot run the workloads. */
async function findTorch(python: string): Promise<{ version: string } | { problem: string }> {
  const probe = await exec(python, ['-c', 'import torch, numpy, onnx, onnxscript, transformers; print(torch.__version__)']);
  if (probe.code === 0) return { version: probe.stdout.trim() };
  const last = (probe.stderr.trim().split('\n').pop() ?? '').trim();
  return { problem: last || (probe.code === -1 ? 'no such interpreter' : `exit ${probe.code}`) };
}

async function pytorchRun(python: string, dir: string, name: string, threads: number): Promise<RunResult> {
  const r = await exec(python, [WORKLOADS_PY, 'train', dir, name, '--threads', String(threads), '--epochs', String(EPOCHS)]);
  if (r.code !== 0) throw new Error(`PyTorch run of ${name} failed: ${r.stderr.trim().split('\n').pop()}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as RunResult;
}

async function regraftRun(dir: string, name: string, batch: number, threads: number): Promise<RunResult> {
  const r = await exec(process.execPath, [WORKER, dir, name, String(batch), String(threads), String(EPOCHS)]);
  if (r.code !== 0) throw new Error(`regraft run of ${name} failed: ${r.stderr.trim().split('\n').pop()}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as RunResult;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x: number) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1));
const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;

/** Trains `names` with both, alternating, and prints one table row per workload and thread count. */
export async function benchVsPytorch(names: readonly string[], title: string): Promise<string> {
  const python = process.env[PYTHON_ENV] ?? 'python3';
  const torch = await findTorch(python);
  if ('problem' in torch) {
    process.exitCode = 1;
    return torchVenvHint(python, torch.problem);
  }
  const { version } = torch;
  const dir = await mkdtemp(join(tmpdir(), 'regraft-bench-vs-pytorch-'));
  try {
    const made = await exec(python, [WORKLOADS_PY, 'export', dir, ...names]);
    if (made.code !== 0) throw new Error(`exporting the workloads failed: ${made.stderr.trim().split('\n').pop()}`);
    const exported = JSON.parse(made.stdout.trim().split('\n').pop()!).exported as Record<string, { batch: number; samples: number }>;
    const runs = new Map<string, { regraft: RunResult[]; pytorch: RunResult[] }>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const threads of THREADS) {
        for (const name of names) {
          const key = `${name}@${threads}`;
          if (!runs.has(key)) runs.set(key, { regraft: [], pytorch: [] });
          const got = runs.get(key)!;
          const doRegraft = async () => void got.regraft.push(await regraftRun(dir, name, exported[name].batch, threads));
          const doPytorch = async () => void got.pytorch.push(await pytorchRun(python, dir, name, threads));
          // Alternate who goes first, so that drift in the machine's load hits both alike.
          if ((round + THREADS.indexOf(threads)) % 2 === 0) await doRegraft().then(doPytorch);
          else await doPytorch().then(doRegraft);
        }
      }
    }
    const lines = [
      `${title}: regraft (onnxruntime-node) vs PyTorch ${version} on CPU, same network, weights and data, ${ROUNDS} alternating rounds of ${EPOCHS} epochs; samples/s of the last epoch, median of the rounds; peak RSS of each run's process`,
    ];
    for (const threads of THREADS) {
      lines.push(`  ${threads} thread${threads > 1 ? 's' : ''}:`);
      for (const name of names) {
        const { regraft, pytorch } = runs.get(`${name}@${threads}`)!;
        const rate = (r: RunResult) => r.samples_per_sec[r.samples_per_sec.length - 1];
        const ours = median(regraft.map(rate));
        const theirs = median(pytorch.map(rate));
        const ratio = ours / theirs;
        const perRound = regraft.map((r, i) => (rate(r) / rate(pytorch[i])).toFixed(2)).join(', ');
        const rssOurs = Math.max(...regraft.map((r) => r.peak_rss));
        const rssTheirs = Math.max(...pytorch.map((r) => r.peak_rss));
        lines.push(
          `    ${LABELS[name]}: regraft ${fmt(ours)} vs PyTorch ${fmt(theirs)} samples/s, ratio ${ratio.toFixed(2)}x (rounds ${perRound}; target >= ${TARGET}: ${ratio >= TARGET ? 'met' : 'MISSED'}); ` +
            `peak RSS ${mib(rssOurs)} vs ${mib(rssTheirs)} (${(rssOurs / rssTheirs).toFixed(2)}x: ${rssOurs <= rssTheirs ? 'met' : 'MISSED'}); ` +
            `first-epoch loss ${regraft[0].train_loss[0].toFixed(3)} vs ${pytorch[0].train_loss[0].toFixed(3)}`,
        );
      }
    }
    return lines.join('\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
