// Usage: node --max-old-space-size=4096 bench/heapdiff.mjs A.heapsnapshot B.heapsnapshot [topN] [pathsPerGroup]
// Aggregates count/self_size per (type, name), diffs B vs A, and for objects
// present in B but not in A (by stable V8 node id) groups them and prints the
// shortest retaining path from the GC root (BFS over non-weak edges).
import { readFileSync } from 'node:fs';

function load(file) {
  const t0 = Date.now();
  const j = JSON.parse(readFileSync(file, 'utf8'));
  const m = j.snapshot.meta;
  const nf = m.node_fields, ef = m.edge_fields;
  const N = nf.length, E = ef.length;
  const nodeTypes = m.node_types[0], edgeTypes = m.edge_types[0];
  const iType = nf.indexOf('type'), iName = nf.indexOf('name'), iId = nf.indexOf('id'), iSize = nf.indexOf('self_size'), iEc = nf.indexOf('edge_count');
  const eType = ef.indexOf('type'), eName = ef.indexOf('name_or_index'), eTo = ef.indexOf('to_node');
  const nodes = j.nodes, edges = j.edges, strings = j.strings;
  const n = nodes.length / N;
  const firstEdge = new Uint32Array(n + 1);
  for (let i = 0, e = 0; i < n; i++) { firstEdge[i] = e; e += nodes[i * N + iEc] * E; firstEdge[i + 1] = e; }
  const S = {
    file, n, N, E, nodes, edges, strings, nodeTypes, edgeTypes, firstEdge,
    type: (i) => nodeTypes[nodes[i * N + iType]],
    name: (i) => strings[nodes[i * N + iName]],
    id: (i) => nodes[i * N + iId],
    size: (i) => nodes[i * N + iSize],
    edgesOf: function* (i) {
      for (let e = firstEdge[i]; e < firstEdge[i + 1]; e += E) {
        const et = edgeTypes[edges[e + eType]];
        const nm = edges[e + eName];
        yield { type: et, name: et === 'element' || et === 'hidden' ? nm : strings[nm], to: edges[e + eTo] / N };
      }
    },
  };
  let total = 0, js = 0;
  for (let i = 0; i < n; i++) { total += S.size(i); const t = S.type(i); if (t !== 'native' && t !== 'synthetic') js += S.size(i); }
  S.total = total; S.js = js;
  console.error(`${file}: ${n} nodes, ${(total / 1048576).toFixed(3)} MiB self total, ${(js / 1048576).toFixed(3)} MiB V8 heap objects (no native/synthetic), parsed in ${Date.now() - t0} ms`);
  return S;
}

function key(S, i) {
  const t = S.type(i);
  let nm = S.name(i);
  if (t === 'string' || t === 'concatenated string' || t === 'sliced string') nm = '(string)';
  else if (t === 'number') nm = '(heap number)';
  else if (t === 'code') nm = nm.replace(/\s+/g, ' ').slice(0, 60);
  else if (t === 'closure') nm = nm.slice(0, 60);
  else nm = nm.slice(0, 80);
  return `${t}:${nm}`;
}

function aggregate(S) {
  const agg = new Map();
  for (let i = 0; i < S.n; i++) {
    const k = key(S, i);
    let a = agg.get(k);
    if (!a) agg.set(k, (a = { count: 0, size: 0 }));
    a.count++; a.size += S.size(i);
  }
  return agg;
}

function diff(A, B, topN) {
  const aa = aggregate(A), bb = aggregate(B);
  const rows = [];
  for (const k of new Set([...aa.keys(), ...bb.keys()])) {
    const a = aa.get(k) ?? { count: 0, size: 0 }, b = bb.get(k) ?? { count: 0, size: 0 };
    rows.push({ k, dc: b.count - a.count, ds: b.size - a.size, bc: b.count, bs: b.size });
  }
  const fmt = (r) => `${String(r.ds).padStart(9)} B ${String(r.dc).padStart(7)} #   (now ${r.bc} # / ${r.bs} B)  ${r.k}`;
  console.log(`\n=== ${A.file} -> ${B.file}: self total ${A.total} -> ${B.total} (${B.total - A.total >= 0 ? '+' : ''}${B.total - A.total} B); V8 objects only ${A.js} -> ${B.js} (${B.js - A.js} B); nodes ${A.n} -> ${B.n}`);
  console.log(`--- top ${topN} by self_size growth`);
  for (const r of [...rows].sort((x, y) => y.ds - x.ds).slice(0, topN)) console.log(fmt(r));
  console.log(`--- top ${topN} by count growth`);
  for (const r of [...rows].sort((x, y) => y.dc - x.dc).slice(0, topN)) console.log(fmt(r));
  console.log(`--- top 10 shrinkers by self_size`);
  for (const r of [...rows].sort((x, y) => x.ds - y.ds).slice(0, 10)) console.log(fmt(r));
}

// BFS from the root (node 0) over strong edges; parent[] gives a shortest path.
function bfs(S) {
  const parent = new Int32Array(S.n).fill(-2);
  const parentEdge = new Array(S.n);
  const queue = new Int32Array(S.n);
  let h = 0, t = 0;
  queue[t++] = 0; parent[0] = -1;
  while (h < t) {
    const i = queue[h++];
    for (const e of S.edgesOf(i)) {
      if (e.type === 'weak' || e.type === 'shortcut') continue;
      if (parent[e.to] !== -2) continue;
      parent[e.to] = i; parentEdge[e.to] = e; queue[t++] = e.to;
    }
  }
  return { parent, parentEdge };
}

function label(S, i) {
  const t = S.type(i);
  const nm = S.name(i).replace(/\s+/g, ' ').slice(0, 50);
  return t === 'object' || t === 'closure' ? `${nm}` : `(${t})${nm ? ' ' + nm : ''}`;
}

function pathTo(S, P, i, maxHops) {
  const parts = [];
  let cur = i, hops = 0;
  while (P.parent[cur] >= 0 && hops < maxHops) {
    const e = P.parentEdge[cur];
    const en = e.type === 'element' ? `[${e.name}]` : e.type === 'hidden' ? `<h${e.name}>` : e.type === 'internal' ? `{${e.name}}` : `.${e.name}`;
    parts.unshift(`${en}`);
    parts.unshift(label(S, P.parent[cur]));
    cur = P.parent[cur]; hops++;
  }
  if (P.parent[cur] === -2) return '(unreachable) ' + label(S, i);
  return (P.parent[cur] >= 0 ? '... ' : '') + parts.join(' ') + ' -> ' + label(S, i);
}

function newObjects(A, B, pathsPerGroup) {
  const idsA = new Set();
  for (let i = 0; i < A.n; i++) idsA.add(A.id(i));
  const P = bfs(B);
  const groups = new Map();
  let newCount = 0, newSize = 0;
  for (let i = 0; i < B.n; i++) {
    if (idsA.has(B.id(i))) continue;
    const ty = B.type(i);
    if (ty === 'native' || ty === 'synthetic') continue; // embedder nodes get fresh ids every snapshot
    newCount++; newSize += B.size(i);
    const k = key(B, i);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { count: 0, size: 0, paths: new Map() }));
    g.count++; g.size += B.size(i);
    if ((ty === 'string' || ty === 'concatenated string' || ty === 'sliced string') && (g.samples ??= []).length < 6) g.samples.push(JSON.stringify(B.name(i).slice(0, 100)));
    // group paths by a signature that drops element indices
    const p = pathTo(B, P, i, 12).replace(/\[\d+\]/g, '[n]').replace(/<h\d+>/g, '<h>');
    g.paths.set(p, (g.paths.get(p) ?? 0) + 1);
  }
  console.log(`\n=== objects in ${B.file} not in ${A.file} (by node id): ${newCount} objects, ${newSize} B`);
  // New V8-internal (code/hidden/object shape) bytes by the nearest closure up the retaining path
  const byFn = new Map();
  let internal = 0;
  for (let i = 0; i < B.n; i++) {
    const ty = B.type(i);
    if (idsA.has(B.id(i)) || !(ty === 'code' || ty === 'hidden' || ty === 'object shape')) continue;
    internal += B.size(i);
    let cur = i, fn = '(none within 8 hops)';
    for (let h = 0; h < 8 && P.parent[cur] >= 0; h++) { cur = P.parent[cur]; if (B.type(cur) === 'closure') { fn = B.name(cur) || '(anonymous)'; break; } }
    byFn.set(fn, (byFn.get(fn) ?? 0) + B.size(i));
  }
  console.log(`--- new V8-internal objects (code / hidden / object shape): ${internal} B; by nearest owning closure (top 20):`);
  for (const [fn, sz] of [...byFn.entries()].sort((x, y) => y[1] - x[1]).slice(0, 20)) console.log(`${String(sz).padStart(9)} B  ${fn}`);
  let app = 0; for (const [k, g] of groups) if (!/^(code|hidden|object shape):/.test(k)) app += g.size;
  console.log(`--- new non-internal objects (object/array/string/closure/number/...): ${app} B`);
  const sorted = [...groups.entries()].sort((x, y) => y[1].size - x[1].size).slice(0, 25);
  for (const [k, g] of sorted) {
    console.log(`${String(g.size).padStart(9)} B ${String(g.count).padStart(6)} #  ${k}`);
    if (g.samples) console.log(`      samples: ${g.samples.join(' | ')}`);
    for (const [p, c] of [...g.paths.entries()].sort((x, y) => y[1] - x[1]).slice(0, pathsPerGroup)) console.log(`      ${String(c).padStart(5)}x  ${p}`);
  }
}

const [fa, fb, topArg, ppg] = process.argv.slice(2);
const A = load(fa), B = load(fb);
diff(A, B, Number(topArg ?? 25));
newObjects(A, B, Number(ppg ?? 3));
