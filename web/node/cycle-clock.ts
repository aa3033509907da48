/**
 * A CycleTimer for DriftNode driven by the clock worker (./clock-worker.ts),
 * falling back to the page's setTimeout where workers are not allowed.
 */
import type { CycleTimer } from '../../main/node/drift-node.js';

export function workerCycleTimer(workerUrl: string): CycleTimer {
  let worker: Worker;
  try {
    worker = new Worker(workerUrl);
  } catch {
    return { set: (callback, ms) => setTimeout(callback, ms), clear: (handle) => clearTimeout(handle as number) };
  }
  let next = 1;
  let failed = false;
  const pending = new Map<number, () => void>();
  // A worker that cannot load fails later, as an event: the page's own timers take over.
  worker.onerror = () => {
    failed = true;
    for (const callback of pending.values()) setTimeout(callback, 0);
    pending.clear();
  };
  worker.onmessage = (event: MessageEvent<{ id: number }>) => {
    const callback = pending.get(event.data.id);
    pending.delete(event.data.id);
    callback?.();
  };
  return {
    set: (callback, ms) => {
      if (failed) return -setTimeout(callback, ms);
      const id = next++;
      pending.set(id, callback);
      worker.postMessage({ id, ms });
      return id;
    },
    clear: (handle) => {
      if ((handle as number) < 0) clearTimeout(-(handle as number));
      pending.delete(handle as number);
    },
  };
}
