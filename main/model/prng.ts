/**
 * A small seeded PRNG (sfc32 seeded through splitmix32) for tests and
 * simulations that must be reproducible. Real nodes draw entropy from
 * crypto.getRandomValues instead (docs/drift-model.md §1).
 */

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * The four sfc32 words seededRandom(seed) starts from (its splitmix32
 * seeding), as int32: the simulators keep them in an Int32Array.
 */
export function sfc32State(seed: number): [number, number, number, number] {
  const init = splitmix32(seed);
  return [init() | 0, init() | 0, init() | 0, init() | 0];
}

/** sfc32 from the words [a, b, c, d]: uniform numbers in [0, 1). */
export function sfc32([a0, b0, c0, d0]: readonly [number, number, number, number]): () => number {
  let a = a0;
  let b = b0;
  let c = c0;
  let d = d0;
  return () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

/** Returns a function yielding uniform numbers in [0, 1), fully determined by `seed`. */
export function seededRandom(seed: number): () => number {
  return sfc32(sfc32State(seed));
}
