/** Seeded randomness for the load generator: the same seed gives the same stream (tests, reruns). */

/** xorshift128+ on 32-bit halves would be overkill; sfc32 is small, fast and passes PractRand for our sizes. */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    this.#a = 0x9e3779b9;
    this.#b = 0x243f6a88;
    this.#c = 0xb7e15162;
    this.#d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.next(); // mix the seed in
  }

  /** Uniform in [0, 1). */
  next(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next(); // (0, 1]
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  sign(): 1 | -1 {
    return this.next() < 0.5 ? -1 : 1;
  }
}

/** A stable hash of a string to a 32-bit seed (FNV-1a). */
export function seedOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Zipf-distributed ranks in [1, n] with exponent s, by rejection-inversion (Hörmann & Derflinger 1996, as in
 * Apache Commons RNG): O(1) memory and time per sample, so 100 million keys cost nothing to set up.
 */
export class ZipfSampler {
  readonly #n: number;
  readonly #s: number;
  readonly #hIntegralX1: number;
  readonly #hIntegralN: number;
  readonly #threshold: number;

  constructor(n: number, exponent: number) {
    if (n < 1 || exponent <= 0) throw new RangeError("zipf needs n >= 1 and exponent > 0");
    this.#n = n;
    this.#s = exponent;
    this.#hIntegralX1 = this.#hIntegral(1.5) - 1;
    this.#hIntegralN = this.#hIntegral(n + 0.5);
    this.#threshold = 2 - this.#hIntegralInverse(this.#hIntegral(2.5) - this.#h(2));
  }

  sample(rng: Rng): number {
    for (;;) {
      const u = this.#hIntegralN + rng.next() * (this.#hIntegralX1 - this.#hIntegralN);
      const x = this.#hIntegralInverse(u);
      const k = Math.min(this.#n, Math.max(1, Math.floor(x + 0.5)));
      if (k - x <= this.#threshold || u >= this.#hIntegral(k + 0.5) - this.#h(k)) return k;
    }
  }

  #h(x: number): number {
    return Math.exp(-this.#s * Math.log(x));
  }
  #hIntegral(x: number): number {
    const logX = Math.log(x);
    return helper2((1 - this.#s) * logX) * logX;
  }
  #hIntegralInverse(x: number): number {
    let t = x * (1 - this.#s);
    if (t < -1) t = -1; // numerical safety, as in the reference implementation
    return Math.exp(helper1(t) * x);
  }
}

/** log(1 + x) / x, continuous at 0. */
const helper1 = (x: number) => (Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x * (0.5 - x * (1 / 3 - 0.25 * x)));
/** (exp(x) − 1) / x, continuous at 0. */
const helper2 = (x: number) => (Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + x * 0.5 * (1 + x * (1 / 3) * (1 + 0.25 * x)));
