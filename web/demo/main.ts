/**
 * The public demo page: wires the simulated network (network.ts), its
 * plane (plane.ts), the readouts, the controls and the join form. The
 * network cycles on its own timer at a node's period (50-200 ms); the plane
 * draws at display rate and only while the page is visible.
 */
import { DEMO_MAX_DEGREE, DEMO_MAX_NODES, DEMO_MIN_DEGREE, DEMO_MIN_NODES, MAX_CYCLE_MS, MIN_CYCLE_MS } from '../../main/model/limits.js';
import type { Weighting } from '../../main/model/weights.js';
import { byId, setText } from '../../renderer/dom.js';
import { formatRate, formatSig } from '../../renderer/format.js';
import { drawSparkline } from '../../renderer/sparkline.js';
import { SpreadHistory } from '../../renderer/spread-history.js';
import { joinTarget } from './join.js';
import { DemoNetwork, feasibleDegree, type NetworkState } from './network.js';
import { DemoPlane, drawLegend } from './plane.js';
import { checkCycleMs, checkDegree, checkNodes, checkWeighting, parseQuery, type Checked, type DemoSettings } from './settings.js';

/** The sparkline: a sample every quarter second, one minute of them (convergence takes seconds, not minutes)... */
const SPARK_SAMPLE_MS = 250;
const SPARK_SAMPLES = 240;
/** ...shown over at least this long, so the first seconds fill the chart instead of a sliver at its right edge. */
const SPARK_MIN_SPAN_MS = 10_000;
/** The rate readout averages over the last this many cycles. */
const RATE_WINDOW = 20;
/** Readouts are refreshed this often. */
const READOUT_MS = 200;
/** The floor is computed this long after a change, so the change is drawn first. */
const FLOOR_DELAY_MS = 30;

const WEIGHTING_NOTES: Record<Weighting, string> = {
  wmsr: 'Each node averages its peers after dropping, on each axis, the most extreme values: what a node does by default, so that a few liars cannot steer it.',
  seed: 'Each node moves a tenth of the way (beta = 0.1) toward the plain average of its peers every cycle.',
  metropolis: 'Each peer weighs 1 / (1 + the larger of the two degrees): several times faster on sparse meshes, but a liar steers it.',
};

/** What window.__lvsDemo.state() returns: the network's state plus the page's. Read-only, a fresh copy every call. */
export interface DemoProbeState extends NetworkState {
  readonly cycleMs: number;
  readonly paused: boolean;
  /** Cycles per second over the last RATE_WINDOW cycles (0 before two cycles). */
  readonly rate: number;
  /** The noise floor the model predicts for this graph and weighting, null while it is being computed. */
  readonly floor: number | null;
}

export interface DemoProbe {
  state(): DemoProbeState;
  positions(): [number, number][];
}

declare global {
  interface Window {
    /** Read-only view of the demo for tests and the curious. */
    __lvsDemo?: DemoProbe;
  }
}

function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]!;
}

function start(): void {
  const query = parseQuery(location.search);
  let settings: DemoSettings = query.settings;
  const seed = query.seed ?? randomSeed();
  const network = new DemoNetwork(settings, { graph: seed, entropy: Math.imul(seed ^ 0x27d4eb2f, 0x165667b1) >>> 0 });

  const plane = new DemoPlane(byId('plane', HTMLCanvasElement), network, () => settings.cycleMs);
  const history = new SpreadHistory(SPARK_SAMPLES, SPARK_SAMPLE_MS);
  const sparkline = byId('sparkline', HTMLCanvasElement);
  const sparkCaption = byId('spark-caption', HTMLElement);
  const spreadOut = byId('spread', HTMLElement);
  const floorOut = byId('floor', HTMLElement);
  const cycleOut = byId('cycle', HTMLElement);
  const rateOut = byId('rate', HTMLElement);
  const graphOut = byId('graph-size', HTMLElement);
  const liarTerm = byId('liar-distance-term', HTMLElement);
  const liarOut = byId('liar-distance', HTMLElement);
  const headline = byId('headline', HTMLElement);
  const runState = byId('run-state', HTMLElement);
  const settingsError = byId('settings-error', HTMLElement);

  const nodesInput = byId('nodes', HTMLInputElement);
  const linksInput = byId('links', HTMLInputElement);
  const cycleInput = byId('cycle-ms', HTMLInputElement);
  const weightingSelect = byId('weighting', HTMLSelectElement);
  const weightingNote = byId('weighting-note', HTMLElement);
  const liarBox = byId('liar', HTMLInputElement);
  const pauseButton = byId('pause', HTMLButtonElement);

  let paused = false;
  let timer = 0;
  let due = 0;
  const cycleTimes: number[] = [];

  const rate = (): number => {
    if (cycleTimes.length < 2) return 0;
    const span = cycleTimes[cycleTimes.length - 1]! - cycleTimes[0]!;
    return span > 0 ? ((cycleTimes.length - 1) * 1000) / span : 0;
  };

  const tick = (): void => {
    const now = performance.now();
    network.cycle();
    plane.update(now);
    cycleTimes.push(now);
    if (cycleTimes.length > RATE_WINDOW) cycleTimes.shift();
    history.maybeSample(network.state().spread, now);
    // The next cycle is due one period after this one was; a late timer (a busy or hidden tab)
    // carries on from now instead of running the missed cycles in a burst.
    due = Math.max(due + settings.cycleMs, now);
    timer = window.setTimeout(tick, due - now);
  };

  const run = (): void => {
    window.clearTimeout(timer);
    cycleTimes.length = 0;
    due = performance.now() + settings.cycleMs;
    timer = window.setTimeout(tick, settings.cycleMs);
  };

  const floorText = (): string => (network.floorKnown() ? `≈ ${formatSig(network.predictedFloor())}` : 'computing…');

  let floorTimer = 0;
  const scheduleFloor = (): void => {
    window.clearTimeout(floorTimer);
    floorTimer = window.setTimeout(() => {
      network.predictedFloor();
      render();
    }, FLOOR_DELAY_MS);
  };

  const render = (): void => {
    const now = performance.now();
    const s = network.state();
    setText(spreadOut, formatSig(s.spread));
    setText(floorOut, floorText());
    setText(cycleOut, String(s.cycle));
    setText(rateOut, paused ? 'paused' : `${formatRate(rate())} · every ${settings.cycleMs} ms`);
    setText(graphOut, `${s.nodes} nodes · ${network.links().length} links`);
    setText(headline, `${s.nodes} simulated nodes in this page`);
    liarTerm.hidden = !s.liar;
    liarOut.hidden = !s.liar;
    if (s.liarDistance !== null) setText(liarOut, formatSig(s.liarDistance));
    const oldest = history.samples()[0]?.at ?? now;
    const span = Math.min(SPARK_SAMPLE_MS * SPARK_SAMPLES, Math.max(SPARK_MIN_SPAN_MS, now - oldest));
    setText(sparkCaption, drawSparkline(sparkline, history, now, span));
    runState.dataset['state'] = paused ? 'paused' : 'running';
    setText(runState, paused ? 'paused' : 'running');
    setText(pauseButton, paused ? 'Resume' : 'Pause');
  };

  // ---- controls ----
  const setRange = (input: HTMLInputElement, min: number, max: number, value: number): void => {
    input.min = String(min);
    input.max = String(max);
    input.value = String(value);
  };
  setRange(nodesInput, DEMO_MIN_NODES, DEMO_MAX_NODES, settings.nodes);
  setRange(linksInput, DEMO_MIN_DEGREE, DEMO_MAX_DEGREE, settings.degree);
  setRange(cycleInput, MIN_CYCLE_MS, MAX_CYCLE_MS, settings.cycleMs);
  weightingSelect.value = settings.weighting;
  liarBox.checked = settings.liar;

  const showControlValues = (): void => {
    const nodes = Number(nodesInput.value);
    const asked = Number(linksInput.value);
    const k = feasibleDegree(nodes, asked);
    setText(byId('nodes-value', HTMLOutputElement), String(nodes));
    setText(byId('links-value', HTMLOutputElement), k === asked ? String(k) : `${k} (nodes × links must be even)`);
    setText(byId('cycle-ms-value', HTMLOutputElement), `${cycleInput.value} ms`);
    setText(weightingNote, WEIGHTING_NOTES[settings.weighting]);
  };

  const problems: string[] = [...query.problems];
  const showProblems = (): void => setText(settingsError, problems.join('\n'));

  /** Reads every control through the same checks as the query string; a bad value is named and not applied. */
  const applyControls = (): void => {
    problems.length = 0;
    const take = <T>(result: Checked<T>, fallback: T): T => {
      if (result.ok) return result.value;
      problems.push(result.detail);
      return fallback;
    };
    const next: DemoSettings = {
      nodes: take(checkNodes(nodesInput.value), settings.nodes),
      degree: take(checkDegree(linksInput.value), settings.degree),
      weighting: take(checkWeighting(weightingSelect.value), settings.weighting),
      liar: liarBox.checked,
      cycleMs: take(checkCycleMs(cycleInput.value), settings.cycleMs),
    };
    const cycleChanged = next.cycleMs !== settings.cycleMs;
    settings = next;
    network.configure(next);
    plane.update(performance.now());
    if (cycleChanged && !paused) run();
    scheduleFloor();
    showControlValues();
    showProblems();
    render();
  };

  for (const input of [nodesInput, linksInput, cycleInput]) input.addEventListener('input', showControlValues);
  for (const control of [nodesInput, linksInput, cycleInput, weightingSelect, liarBox]) control.addEventListener('change', applyControls);
  byId('controls', HTMLFormElement).addEventListener('submit', (e) => e.preventDefault());

  byId('scatter', HTMLButtonElement).addEventListener('click', () => {
    network.scatter();
    plane.update(performance.now());
    render();
  });
  pauseButton.addEventListener('click', () => {
    paused = !paused;
    if (paused) window.clearTimeout(timer);
    else run();
    render();
  });

  // ---- join a real node ----
  const joinInput = byId('join-address', HTMLInputElement);
  const joinError = byId('join-error', HTMLElement);
  byId('join-form', HTMLFormElement).addEventListener('submit', (e) => {
    e.preventDefault();
    const target = joinTarget(joinInput.value);
    if (!target.ok) {
      setText(joinError, target.message);
      joinInput.setAttribute('aria-invalid', 'true');
      joinInput.focus();
      return;
    }
    setText(joinError, '');
    joinInput.removeAttribute('aria-invalid');
    window.location.assign(target.url);
  });
  joinInput.addEventListener('input', () => {
    if (joinError.textContent !== '') {
      setText(joinError, '');
      joinInput.removeAttribute('aria-invalid');
    }
  });

  // ---- probe, timers, drawing ----
  window.__lvsDemo = Object.freeze({
    state: (): DemoProbeState => ({
      ...network.state(),
      cycleMs: settings.cycleMs,
      paused,
      rate: rate(),
      floor: network.floorKnown() ? network.predictedFloor() : null,
    }),
    positions: (): [number, number][] => Array.from({ length: network.nodeCount }, (_, i) => [...network.position(i)] as [number, number]),
  });

  drawLegend(byId('legend', HTMLCanvasElement));
  plane.update(performance.now());
  showControlValues();
  showProblems();
  render();
  scheduleFloor();
  window.setInterval(render, READOUT_MS);
  run();
  document.addEventListener('visibilitychange', () => (document.hidden ? plane.stop() : plane.start()));
  if (!document.hidden) plane.start();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
else start();
