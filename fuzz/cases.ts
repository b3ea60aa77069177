/**
 * The fuzz cases: case N of seed S is always the same bytes (the corpus model it starts from, the mutations and
 * their parameters all come from one random stream seeded by (S, N)), so a failure is reproduced by its numbers.
 * The corpus is the shared set of ONNX backend models in test/fixtures/onnx-backend/ (see its ORIGIN.md).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import type { LossKind } from '../src/compile/losses.js';
import { Rng } from '../src/util/rng.js';
import { MUTATIONS } from './mutations.js';

/** The repository: this file runs from fuzz/ (the sources, in vitest) or from .fuzz/fuzz/ (compiled). */
export const REPO_ROOT = basename(dirname(import.meta.dirname)) === '.fuzz' ? join(import.meta.dirname, '..', '..') : join(import.meta.dirname, '..');
export const CORPUS_DIR = join(REPO_ROOT, 'test', 'fixtures', 'onnx-backend');

export interface Corpus {
  /** Paths relative to the corpus folder, sorted (so case N picks the same model on every machine). */
  names: string[];
  bytes: Uint8Array[];
}

export function loadCorpus(dir = CORPUS_DIR): Corpus {
  const files = (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.onnx')).sort();
  if (files.length === 0) throw new Error(`no .onnx files under ${dir}`);
  return { names: files.map((f) => relative(dir, join(dir, f))), bytes: files.map((f) => new Uint8Array(readFileSync(join(dir, f)))) };
}

export interface FuzzCase {
  id: number;
  model: string;
  /** What was done to it, in order: `length prefix (field 7 at byte 12: length 304 -> 0)`. */
  mutations: string[];
  bytes: Uint8Array;
  loss: LossKind;
}

/** One random stream per (seed, case), unrelated for neighbouring numbers. */
function caseRng(seed: number, id: number): Rng {
  return new Rng((Math.imul(seed + 1, 0x85ebca6b) ^ Math.imul(id + 1, 0xc2b2ae35)) >>> 0);
}

export function makeCase(corpus: Corpus, seed: number, id: number): FuzzCase {
  const rng = caseRng(seed, id);
  const index = rng.int(corpus.bytes.length);
  let bytes = corpus.bytes[index];
  const mutations: string[] = [];
  // Mostly one mutation: each one more makes it likelier that decoding refuses the file before later stages run.
  const draw = rng.next();
  const count = draw < 0.6 ? 1 : draw < 0.85 ? 2 : 3;
  for (let i = 0; i < count; i++) {
    const mutation = MUTATIONS[rng.int(MUTATIONS.length)];
    const result = mutation.apply(bytes, rng, corpus.bytes);
    bytes = result.bytes;
    mutations.push(`${mutation.name} (${result.detail})`);
  }
  const loss: LossKind = rng.next() < 0.5 ? 'mse' : 'cross-entropy';
  return { id, model: corpus.names[index], mutations, bytes, loss };
}
