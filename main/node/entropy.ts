/**
 * Entropy for real nodes: uniform numbers in [0, 1) from the platform CSPRNG
 * (crypto.getRandomValues, available in Node, Electron and browsers alike),
 * drawn in batches so a cycle costs no syscall.
 */
const BATCH = 256;

export function cryptoRandom(): () => number {
  const buffer = new Uint32Array(BATCH);
  let next = BATCH;
  return () => {
    if (next === BATCH) {
      globalThis.crypto.getRandomValues(buffer);
      next = 0;
    }
    return buffer[next++]! / 4294967296;
  };
}
