import { describe } from 'vitest';
import { awayFromKinks, type KinkedSlopeCase, type RandomSlopeCase, testSlopesAwayFromKinks, testSlopesOnRandomInputs } from '../helpers.js';

describe('unary math gradients on random inputs', () => {
  const cases: RandomSlopeCase[] = [
    { op: 'Neg', slope: () => -1 },
    { op: 'Exp', slope: (x) => Math.exp(x) },
    { op: 'Log', range: [0.5, 2], slope: (x) => 1 / x },
    { op: 'Sqrt', range: [0.5, 2], slope: (x) => 0.5 / Math.sqrt(x) },
    { op: 'Erf', slope: (x) => (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) },
  ];
  testSlopesOnRandomInputs(cases);
});

describe('unary math gradients away from poles', () => {
  const cases: KinkedSlopeCase[] = [
    {
      op: 'Reciprocal',
      range: [-2, 2],
      kinks: [-0.4, 0, 0.4],
      hand: [-2, 0.5, 1.25],
      slope: (x) => -1 / (x * x),
      // Reciprocal's zero is a pole, not a kink: everything within 0.4 of it is excluded (a 0.05 gap around +-0.4 and
      // 0 leaves (-0.35, 0.35) open, so its range starts the generator outside it).
      draw: (n, seed) => awayFromKinks(n, [0.45, 2], [], seed).map((v, i) => (i % 2 ? -v : v)),
    },
  ];
  testSlopesAwayFromKinks(cases);
});
