// Row 14 of the bench: 250 real nodes on one machine (k = 6, 10 Hz) over several processes, next
// to the bare transport on the same graph, processes and timing, and how the cost per node moves
// from 20 to 100 to 250 nodes (docs/bench-scale.svg). Each figure is one `npm run cluster` run
// (bench/cluster-run.mjs) in processes of its own, read back from its --json report.
//   bench/run.mjs calls scaleRows() (full run);
//   npm run -s build && node bench/scale.mjs [--quick]   the rows alone, printed, and
//     out/bench/scale.json and out/bench/bench-scale.svg
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { linePlotSvg, load, Results } from './lib.mjs';
import { OUT_DIR } from './output.mjs';

/**
 * Nodes per worker process: all 250 in one. Measured at 250 nodes (BENCHMARKS.md, row 14), one
 * process costs no more CPU than two, three or four (its nodes share the native threads' wake-ups)
 * and about 0.3 MB per node less for every process it saves (Node, the modules and
 * node-datachannel's threads, ~70 MB each). Its one main thread runs every send and every cycle,
 * so on a machine busy with other work it falls behind its 10 Hz first (the row says so).
 */
export const NODES_PER_PROCESS = 250;
export const SCALE_NODES = [20, 100, 250];
const CLUSTER = fileURLToPath(new URL('./cluster-run.mjs', import.meta.url));

/** One `npm run cluster` run; returns its report (throws with its output if it wrote none). */
export function clusterRun({ n, processes, transport, seconds }) {
  const dir = mkdtempSync(join(tmpdir(), 'lvs-bench-scale-'));
  try {
    const out = join(dir, 'report.json');
    const args = [CLUSTER, '--nodes', String(n), '--processes', String(processes), '--k', '6', '--cycle-ms', '100', '--seconds', String(seconds), '--transport', transport, '--json', out];
    const run = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 15 * 60_000 });
    let report;
    try {
      report = JSON.parse(readFileSync(out, 'utf8'));
    } catch {
      throw new Error(`npm run cluster (${transport}, ${n} nodes) wrote no report (exit ${run.status ?? run.signal}): ${(run.stderr || run.stdout).trim().split('\n').slice(-3).join(' / ')}`);
    }
    if (run.status !== 0) console.log(`  cluster ${transport} ${n}: exit ${run.status}; ${report.dialFailures} dial(s) failed`);
    return report;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const processesFor = (n) => Math.max(1, Math.ceil(n / NODES_PER_PROCESS));

/** Runs the bare transport and the nodes at each size, adds row 14 to `results`, returns the series and the SVG. */
export function scaleRows(results, { quick = false } = {}) {
  const seconds = quick ? 10 : 20;
  const runs = [];
  for (const n of SCALE_NODES) {
    const processes = processesFor(n);
    console.log(`scale: ${n} nodes in ${processes} process(es), bare transport then nodes, ${seconds} s windows`);
    const bare = clusterRun({ n, processes, transport: 'bare', seconds });
    const node = clusterRun({ n, processes, transport: 'node', seconds });
    runs.push({ n, processes, bare, node });
  }
  for (const { n, processes, bare, node } of runs) {
    const big = n === SCALE_NODES[SCALE_NODES.length - 1];
    const where = `${n} nodes k=6 at 10 Hz, ${processes} process(es)`;
    const common = { processes, load: node.loadAverage, links: node.links, framesPerSecond: Math.round(node.framesPerSecond), bareFramesPerSecond: Math.round(bare.framesPerSecond) };
    results.add(14, `CPU, ${where} (all processes)`, '% of one core', node.cpuPercentTotal, big ? '<= 150' : null, {
      ...common, cpuPerProcess: node.cpuPercentPerProcess, baseline: bare.cpuPercentTotal, baselineName: `bare node-datachannel, same graph, processes and timing (${Math.round(bare.framesPerSecond)} frames/s)`,
    });
    results.add(14, `CPU per node, ${n} nodes`, '% of one core', node.cpuPercentPerNode, null, { baseline: bare.cpuPercentPerNode, baselineName: 'bare transport per node' });
    results.add(14, `RSS per node, ${where} (all processes)`, 'MB', node.rssMBPerNode, big ? '<= 1.5' : null, {
      rssMBPerProcess: node.rssMBPerProcess, rssBeforeMBPerProcess: node.rssBeforeMBPerProcess, baseline: bare.rssMBPerNode, baselineName: 'bare transport per node, same processes (MB)',
    });
    if (big) {
      results.add(14, `steady spread with entropy, ${n} nodes, seed rule: measured/predicted (XBK)`, 'ratio', node.steadySpreadMeasured / node.steadySpreadPredicted, '0.8..1.2', {
        measured: node.steadySpreadMeasured, predicted: node.steadySpreadPredicted, convergedAfterSeconds: node.convergedAfterSeconds, baseline: node.steadySpreadPredicted, baselineName: 'predicted RMS spread (formed graph)',
      });
      results.add(14, `cycles per second per node, ${n} nodes (mean)`, 'Hz', node.cyclesPerSecond, '>= 9.5', { baseline: 10, baselineName: 'configured rate' });
      results.add(14, `frames received per second, ${n} nodes`, 'frames/s', node.framesPerSecond, null, { baseline: bare.framesPerSecond, baselineName: 'bare transport, same graph and timing' });
    }
  }
  return { runs, svg: scaleSvg(runs) };
}

/** docs/bench-scale.svg: CPU per node against nodes, the node and the bare transport. */
export function scaleSvg(runs) {
  return linePlotSvg('CPU per node, k = 6 at 10 Hz, loopback (all processes)', 'nodes', '% of one core per node', [
    { label: 'node (DriftNode + WebRtcTransport)', color: '#d62728', points: runs.map((r) => [r.n, r.node.cpuPercentPerNode]) },
    { label: 'bare node-datachannel', color: '#1f77b4', points: runs.map((r) => [r.n, r.bare.cpuPercentPerNode]) },
  ], { notes: runs.map((r) => `${r.n}: ${r.processes} process(es)`) });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  const results = new Results();
  const start = load();
  const { runs, svg } = scaleRows(results, { quick });
  mkdirSync(join(OUT_DIR, 'bench'), { recursive: true });
  writeFileSync(join(OUT_DIR, 'bench', 'scale.json'), JSON.stringify({ loadAverage: { start, end: load() }, rows: results.rows, runs: runs.map(({ n, processes, bare, node }) => ({ n, processes, bare: { ...bare, samples: undefined }, node: { ...node, samples: undefined } })) }, null, 2) + '\n');
  writeFileSync(join(OUT_DIR, 'bench', 'bench-scale.svg'), svg);
  console.log(`load average ${start.join(' ')} at the start, ${load().join(' ')} at the end; wrote ${OUT_DIR}/bench/scale.json, ${OUT_DIR}/bench/bench-scale.svg`);
}
