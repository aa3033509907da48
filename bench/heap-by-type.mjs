// node bench/heap-by-type.mjs a.heapsnapshot b.heapsnapshot ... : self_size and count per node type for each snapshot
import { readFileSync } from 'node:fs';
const files = process.argv.slice(2);
const rows = new Map();
for (const [fi, f] of files.entries()) {
  const j = JSON.parse(readFileSync(f, 'utf8'));
  const m = j.snapshot.meta, N = m.node_fields.length, it = m.node_fields.indexOf('type'), is = m.node_fields.indexOf('self_size'), types = m.node_types[0];
  for (let i = 0; i < j.nodes.length; i += N) {
    const t = types[j.nodes[i + it]];
    let r = rows.get(t); if (!r) rows.set(t, (r = files.map(() => ({ c: 0, s: 0 }))));
    r[fi].c++; r[fi].s += j.nodes[i + is];
    const tot = rows.get('TOTAL') ?? (rows.set('TOTAL', files.map(() => ({ c: 0, s: 0 }))), rows.get('TOTAL'));
    tot[fi].c++; tot[fi].s += j.nodes[i + is];
  }
}
console.log('type'.padEnd(22) + files.map((f) => f.replace(/\.heapsnapshot$/, '').padStart(22)).join(''));
for (const [t, r] of [...rows.entries()].sort((a, b) => b[1].at(-1).s - a[1].at(-1).s)) console.log(t.padEnd(22) + r.map((x) => `${x.s} B/${x.c}`.padStart(22)).join(''));
