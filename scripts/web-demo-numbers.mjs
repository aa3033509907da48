#!/usr/bin/env node
// Prints the numbers docs/web-demo.md cites: for the demo's network (the
// code the page runs, web/demo/network.ts, as tsc -b emits it), the noise
// floor the model predicts, the steady spread measured, the cycles from a
// scatter to twice the floor against the SLEM's prediction, and where a
// stubborn liar leaves the cloud. Seeded: the output is the same every run.
//
//   npx tsc -b && node scripts/web-demo-numbers.mjs     (~30 s)
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist/web/demo/network.js');
if (!existsSync(built)) {
  console.error('web-demo-numbers: dist/web/demo/network.js is missing; run `npx tsc -b` first');
  process.exit(2);
}
const { DemoNetwork } = await import(pathToFileURL(built).href);
const { randomRegularGraph } = await import(pathToFileURL(join(root, 'dist/main/sim/graph.js')).href);
const { predictedCycles, slem } = await import(pathToFileURL(join(root, 'dist/main/sim/spectrum.js')).href);
const { DEFAULT_DRIFT_PARAMS } = await import(pathToFileURL(join(root, 'dist/main/model/drift.js')).href);

const SEEDS = 10;
const STEADY_FROM = 500;
const STEADY_TO = 5000;
const LIAR_CYCLES = 300;

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

console.log(`demo network, defaults alpha ${DEFAULT_DRIFT_PARAMS.alpha}, beta ${DEFAULT_DRIFT_PARAMS.beta}, gamma ${DEFAULT_DRIFT_PARAMS.gamma}; ${SEEDS} seeds each (median)`);
console.log('nodes  links  weighting   floor (predicted)  steady spread  start spread  cycles to 2x floor  predicted (SLEM)  liar distance after 300 cycles');
for (const [nodes, degree] of [[36, 6], [36, 3], [200, 6]]) {
  for (const weighting of ['wmsr', 'seed', 'metropolis']) {
    const floors = [];
    const steady = [];
    const starts = [];
    const cycles = [];
    const predicted = [];
    const liar = [];
    for (let seed = 1; seed <= SEEDS; seed++) {
      const net = new DemoNetwork({ nodes, degree, weighting, liar: false }, { graph: seed, entropy: 1000 * seed });
      const floor = net.predictedFloor();
      const s0 = net.state();
      floors.push(floor);
      starts.push(s0.epochStartSpread);
      let reached = null;
      let sum2 = 0;
      let count = 0;
      for (let c = 1; c <= STEADY_TO; c++) {
        net.cycle();
        const spread = net.state().spread;
        if (reached === null && spread < 2 * floor) reached = c;
        if (c > STEADY_FROM) {
          sum2 += spread * spread;
          count++;
        }
      }
      cycles.push(reached ?? Infinity);
      steady.push(Math.sqrt(sum2 / count));
      const rule = weighting === 'metropolis' ? 'metropolis' : 'seed';
      const graph = randomRegularGraph(nodes, s0.degree, s0.graphSeed);
      predicted.push(predictedCycles(slem(graph, DEFAULT_DRIFT_PARAMS, rule).rho, s0.epochStartSpread / (2 * floor)));
      net.configure({ nodes, degree, weighting, liar: true });
      for (let c = 0; c < LIAR_CYCLES; c++) net.cycle();
      liar.push(net.state().liarDistance);
    }
    console.log(
      [
        String(nodes).padStart(5),
        String(degree).padStart(6),
        weighting.padEnd(10),
        median(floors).toFixed(4).padStart(18),
        median(steady).toFixed(4).padStart(14),
        median(starts).toFixed(2).padStart(13),
        String(median(cycles)).padStart(19),
        String(median(predicted)).padStart(17),
        `${median(liar).toFixed(2)} (from 5.00)`.padStart(31),
      ].join(' '),
    );
  }
}
