/**
 * A small seeded pseudo-random generator (mulberry32), so that shuffling, random search and generated test inputs
 * repeat exactly for the same seed on every machine. Not for cryptography.
 */
export class Rng {
    state;
    constructor(seed) {
        // Mix the seed so that nearby seeds (0, 1, 2, ...) give unrelated streams.
        this.state = (Math.imul(seed >>> 0, 0x9e3779b1) ^ 0x85ebca6b) >>> 0;
    }
    /** Uniform in [0, 1). */
    next() {
        this.state = (this.state + 0x6d2b79f5) >>> 0;
        let t = this.state;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    }
    /** Uniform integer in [0, n). */
    int(n) {
        return Math.floor(this.next() * n);
    }
    /** Uniform in [lo, hi). */
    uniform(lo, hi) {
        return lo + (hi - lo) * this.next();
    }
    /** Standard normal (Box-Muller). */
    normal() {
        let u = 0;
        while (u === 0)
            u = this.next();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
    }
    /** Fisher-Yates shuffle in place. */
    shuffle(a) {
        for (let i = a.length - 1; i > 0; i--) {
            const j = this.int(i + 1);
            const t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }
    /** The current state, to checkpoint and later resume the same stream. */
    getState() {
        return this.state;
    }
    setState(state) {
        this.state = state >>> 0;
    }
}
