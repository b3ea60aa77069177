/**
 * "Did you mean ...?" for unknown keys: the known name closest to a mistyped one, by edit distance (Levenshtein:
 * insertions, deletions and substitutions count 1), case and `-`/`_` ignored, so `batchsize`, `batch_size` and
 * `Batch-Size` all land on `batchSize`. A name that is the other's initials (`lr` for `learningRate`) is nearest.
 */

/** The candidate nearest to `word` (the first of equals, in the candidates' order); undefined when there are none. */
export function nearestName(word: string, candidates: Iterable<string>): string | undefined {
  const folded = fold(word);
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = initials(word) === fold(candidate) || initials(candidate) === folded ? 0 : editDistance(folded, fold(candidate));
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** `unknown setting 'x'; did you mean 'y'?`-style tail: "; did you mean 'y'?" or "" when nothing is known. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const nearest = nearestName(word, candidates);
  return nearest === undefined ? '' : `; did you mean '${nearest}'?`;
}

/** `learningRate` -> `lr`, `batch-size` -> `bs`: the first letter of each word, lowercase. */
function initials(name: string): string {
  const words = name.split(/[-_]|(?=[A-Z])/).filter((w) => w.length > 0);
  return words.length > 1 ? words.map((w) => w[0].toLowerCase()).join('') : '';
}

function fold(name: string): string {
  return name.toLowerCase().replace(/[-_]/g, '');
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
