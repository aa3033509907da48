/**
 * A simulator worker thread: steps its slice of the nodes, round after
 * round, on the state the coordinator shares with it (parallel.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { kernelArrays } from '../sim/fast.js';
import { kernelScratch, round } from '../sim/kernel.js';
import { instantiateKernel, wasmRound } from '../sim/wasm.js';
import { barrier, COMMAND, CYCLES, DONE, FAILED, PARITY, STOP, type WorkerSetup } from './protocol.js';

const setup = workerData as WorkerSetup;
const { state, control, params, from, to, parties } = setup;
const arrays = kernelArrays(state);
const scratch = kernelScratch(state.maxDegree, state.maxTrim);
const kernel = setup.engine === 'wasm' && setup.memory !== null ? instantiateKernel(setup.memory, true) : null;

function job(): void {
  const cycles = Atomics.load(control, CYCLES);
  let parity = Atomics.load(control, PARITY);
  const p = { alpha: params[0]!, beta: params[1]!, gamma: params[2]! };
  let failed = false;
  for (let c = 0; c < cycles; c++) {
    const x = parity === 0 ? state.xyA : state.xyB;
    const out = parity === 0 ? state.xyB : state.xyA;
    if (!failed) {
      try {
        if (kernel !== null) wasmRound(kernel, state, arrays, x, out, from, to, p, scratch, setup.pullAt);
        else round(state.code, arrays, x, out, from, to, p, scratch);
      } catch (err) {
        // Keep meeting the others at the barriers, so they finish the job and the coordinator hears of it.
        failed = true;
        Atomics.store(control, FAILED, 1);
        parentPort?.postMessage({ error: err instanceof Error ? err.message : String(err) });
      }
    }
    parity ^= 1;
    // Everyone's round c is written before anyone reads it in round c + 1.
    if (c < cycles - 1) barrier(control, parties);
  }
}

// Jobs taken so far: COMMAND counts the jobs given from 0, so a job given before this thread got here is not missed.
let taken = 0;
for (;;) {
  while (Atomics.load(control, COMMAND) === taken) Atomics.wait(control, COMMAND, taken);
  taken++;
  if (Atomics.load(control, STOP) === 1) break;
  job();
  Atomics.add(control, DONE, 1);
  Atomics.notify(control, DONE);
}
