/**
 * How the headless node talks to its terminal: text for people, one JSON
 * object per line for programs (the demo, the tests, log shippers).
 */
import type { CycleEvent, LogLevel, NodeStatus } from '../node/drift-node.js';

export type LogFormat = 'text' | 'json';
export type Write = (line: string) => void;

export class LogLines {
  constructor(
    private readonly format: LogFormat,
    private readonly write: Write,
  ) {}

  /** A record for programs; in text form only `text` is printed. */
  record(kind: string, text: string, fields: Record<string, unknown> = {}, level: LogLevel = 'info'): void {
    if (this.format === 'json') this.write(JSON.stringify({ t: new Date().toISOString(), kind, level, msg: text, ...fields }));
    else this.write(`${new Date().toISOString().slice(11, 23)} ${level === 'info' ? '' : `${level.toUpperCase()} `}${text}`);
  }

  cycle(e: CycleEvent): void {
    this.record('cycle', `cycle ${e.cycle} drift ${fmt(e.drift)} diff ${fmt(e.diff)} vu ${e.vu.toFixed(3)} fresh ${e.freshPeers}`, {
      cycle: e.cycle,
      drift: e.drift,
      diff: e.diff,
      vu: e.vu,
      freshPeers: e.freshPeers,
    }, 'debug');
  }

  /** The one-line-a-second summary. */
  summary(s: NodeStatus, rates: { in: number; out: number }): void {
    const linked = s.peers.filter((p) => p.connected).length;
    const fresh = s.peers.filter((p) => p.fresh).length;
    const rejects = Object.values(s.rejects).reduce((sum, n) => sum + (n ?? 0), 0);
    const state = s.paused ? ' (paused)' : s.waitingForPeers ? ' (waiting for peers)' : '';
    this.record(
      'summary',
      `cycle ${s.cycle}${state} drift ${fmt(s.state.drift)} vu ${s.state.vu.toFixed(3)} peers ${linked} linked/${fresh} fresh msgs ${rates.in.toFixed(0)}/s in ${rates.out.toFixed(0)}/s out rejects ${rejects}`,
      { cycle: s.cycle, drift: s.state.drift, vu: s.state.vu, linked, fresh, rejects, msgsInPerSec: rates.in, msgsOutPerSec: rates.out },
    );
  }
}

export function fmt(v: readonly [number, number]): string {
  return `[${v[0].toFixed(3)}, ${v[1].toFixed(3)}]`;
}
