// Bare node-datachannel link setup on loopback (no project code): how often a PeerConnection pair
// fails ("DTLS alert: unknown CA", certificate verify failed) or takes ~1 s (a DTLS flight waiting
// for OpenSSL's 1 s retransmission), by signaling order. Per pair: two PeerConnections (bindAddress
// 127.0.0.1, no ICE servers), one DataChannel, signaling as newline-delimited JSON over its own
// loopback TCP connection, in the order of our WebSocket signaling (offer -> answer -> candidates).
// Setup time: from creating the dialer's PeerConnection to its DataChannel open.
//
//   node bench/dtls-repro.mjs [--pairs 200] [--parallel 1] [--order trickle|hold|connected|gathered|active]
//        [--processes 1|2] [--load 0] [--keep] [--log none|warning|verbose] [--dump-over MS] [--json]
//
// --order trickle    each side sends its description, then its candidates as they come; remote
//                    candidates wait until the remote description is set (the order before the fix).
// --order hold       as trickle, but the dialer sends its candidates only once it has applied the answer.
// --order connected  as hold, and the dialer's candidates wait until its own ICE check has succeeded
//                    (or --fallback MS, default 250, after the answer): the transport's fallback ("dialer first").
// --order active     the dialer's offer says a=setup:active (the acceptor is DTLS server) and its candidates go at
//                    once; the acceptor sends its answer only once its own ICE check has succeeded (or --fallback MS
//                    after the offer): the order the transport tries first ("acceptor first").
// --order gathered   each side sends its description once gathering is complete (candidates in the SDP).
// --parallel M       M pairs set up at a time.
// --processes 2      the acceptors run in a child process (one PeerConnection per side and pair).
// --load K           K busy-looping child processes compete for the two cores during the run.
// --keep             every pair stays connected until the run ends, the way a mesh keeps the links it
//                    has set up; without it each pair is closed 5 ms after its channel opened.
// --log              libdatachannel's log level (errors are counted in the summary); with verbose,
//                    --dump-over MS prints the log of every sequential pair slower than MS.
// --json             one JSON line: the summary and every pair's event times (epoch ms) and UDP ports.
//
// Writes nothing; all traffic stays on 127.0.0.1.
import { fork, spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import nodeDataChannel from 'node-datachannel';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length && !args[i + 1].startsWith('--') ? args[i + 1] : fallback;
};
const flag = (name) => args.includes(`--${name}`);
const PAIRS = Number(opt('pairs', 200));
const PARALLEL = Number(opt('parallel', 1));
const ORDER = opt('order', 'trickle');
const LOG = opt('log', 'none');
const LOAD = Number(opt('load', 0));
const PROCESSES = Number(opt('processes', 1));
const JSON_OUT = flag('json');
const KEEP = flag('keep');
const CHILD = flag('child');
const TIMEOUT_MS = 10_000;
const FALLBACK_MS = Number(opt('fallback', 250));
const DUMP_OVER_MS = Number(opt('dump-over', Infinity)); // with --log verbose: print the log of pairs slower than this
const config = { iceServers: [], bindAddress: '127.0.0.1' };
if (!['trickle', 'hold', 'connected', 'gathered', 'active'].includes(ORDER)) throw new Error(`unknown --order ${ORDER}`);

const now = () => performance.timeOrigin + performance.now(); // epoch ms, comparable across processes
const logCounts = new Map();
let verboseLines = [];

function startLogger() {
  if (LOG === 'none') return;
  nodeDataChannel.initLogger(LOG === 'verbose' ? 'Verbose' : 'Warning', (level, message) => {
    // Count the error/warning kinds that matter here; keep verbose lines of the current pair.
    const key = /DTLS alert: [\w ]+|Handshake failed: [^:]*:[^:]*:[^:]*:[^:]*:[\w ]+|DTLS handshake failed|Invalid fingerprint|remote candidate without \w+ \w+/.exec(message)?.[0];
    if (key) logCounts.set(key, (logCounts.get(key) ?? 0) + 1);
    if (LOG === 'verbose' && verboseLines.length < 20000) verboseLines.push(`${now().toFixed(3)} ${level} ${message}`);
  });
}

/** Newline-delimited JSON over a socket. */
function wire(socket, onFrame) {
  let buf = '';
  socket.setNoDelay(true);
  socket.on('data', (d) => {
    buf += d.toString('utf8');
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      onFrame(JSON.parse(line));
    }
  });
  socket.on('error', () => {});
  return (frame) => {
    if (!socket.destroyed) socket.write(`${JSON.stringify(frame)}\n`);
  };
}

/**
 * One side of a pair. role 'dialer' creates the DataChannel (offer); 'acceptor' answers.
 * Returns { done: Promise<{ok, reason, events}>, close() }.
 */
function side(role, send, name, k) {
  const events = { role, k };
  const mark = (what) => {
    if (events[what] === undefined) events[what] = now();
  };
  let pc;
  let described = false; // local description sent
  let remoteSet = false;
  let answerApplied = false;
  let iceConnected = false;
  let fallbackDue = false;
  let heldAnswer; // --order active: the acceptor's answer, until its ICE check succeeded
  const heldLocal = [];
  const heldRemote = [];
  let settle;
  const done = new Promise((resolve) => (settle = resolve));
  let settled = false;
  const finish = (ok, reason) => {
    if (settled) return;
    settled = true;
    mark(ok ? 'open' : 'fail');
    try {
      const sel = pc?.getSelectedCandidatePair();
      if (sel) events.ports = [sel.local.port, sel.remote.port];
    } catch {}
    settle({ ok, reason, events });
  };

  const sendCandidate = (c) => send({ type: 'candidate', ...c });
  const mayFlushLocal = () => {
    if (!described) return;
    if (ORDER === 'hold' && role === 'dialer' && !answerApplied) return;
    if (ORDER === 'connected' && role === 'dialer' && !iceConnected && !fallbackDue) return;
    for (const c of heldLocal.splice(0)) sendCandidate(c);
  };

  const create = () => {
    pc = new nodeDataChannel.PeerConnection(name, config);
    pc.onStateChange((s) => {
      mark(`pc:${s}`);
      if (s === 'failed') finish(false, 'connection failed');
    });
    pc.onIceStateChange((s) => {
      mark(`ice:${s}`);
      if (s === 'connected' || s === 'completed') {
        iceConnected = true;
        sendHeldAnswer();
        mayFlushLocal();
      }
    });
    pc.onGatheringStateChange((s) => {
      mark(`gather:${s}`);
      if (s === 'complete' && ORDER === 'gathered' && !described) {
        const d = pc.localDescription();
        described = true;
        mark('descSent');
        send({ type: d.type, sdp: d.sdp, k });
      }
    });
    pc.onLocalDescription((sdp, type) => {
      mark('localDesc');
      if (ORDER === 'gathered' || described) return;
      if (ORDER === 'active' && role === 'dialer') sdp = sdp.replace(/a=setup:actpass/g, 'a=setup:active');
      if (ORDER === 'active' && role === 'acceptor' && !iceConnected && !fallbackDue) {
        heldAnswer = { sdp, type };
        return;
      }
      described = true;
      mark('descSent');
      send({ type, sdp, k });
      mayFlushLocal();
    });
    pc.onLocalCandidate((candidate, mid) => {
      mark('firstLocalCandidate');
      if (ORDER === 'gathered') return;
      heldLocal.push({ candidate, mid });
      mayFlushLocal();
    });
  };
  const sendHeldAnswer = () => {
    if (!heldAnswer || described) return;
    const { sdp, type } = heldAnswer;
    heldAnswer = undefined;
    described = true;
    mark('descSent');
    send({ type, sdp, k });
    mayFlushLocal();
  };
  let channel; // held: a DataChannel whose JS object is collected is closed by the binding
  const wireDc = (dc) => {
    channel = dc;
    dc.onOpen(() => finish(true));
    dc.onError((e) => finish(false, `channel error ${e}`));
    if (dc.isOpen()) finish(true);
  };
  const addRemote = (c) => {
    try {
      pc.addRemoteCandidate(c.candidate, c.mid);
    } catch (err) {
      mark('candidateRejected');
      events.candidateError = err.message;
    }
  };
  const applyRemote = (sdp, type) => {
    try {
      pc.setRemoteDescription(sdp, type);
    } catch (err) {
      finish(false, `setRemoteDescription: ${err.message}`);
      return;
    }
    remoteSet = true;
    mark(type === 'answer' ? 'answerApplied' : 'offerApplied');
    for (const c of heldRemote.splice(0)) addRemote(c);
    if (type === 'offer' && ORDER === 'active') {
      setTimeout(() => {
        fallbackDue = true;
        mark('fallback');
        sendHeldAnswer();
      }, FALLBACK_MS).unref();
    }
    if (type === 'answer') {
      answerApplied = true;
      mayFlushLocal();
      if (ORDER === 'connected') {
        setTimeout(() => {
          fallbackDue = true;
          mark('fallback');
          mayFlushLocal();
        }, FALLBACK_MS).unref();
      }
    }
  };

  const onFrame = (f) => {
    if (f.type === 'offer' && role === 'acceptor') {
      mark('offerReceived');
      events.k = f.k;
      create();
      pc.onDataChannel(wireDc);
      applyRemote(f.sdp, 'offer');
    } else if (f.type === 'answer' && role === 'dialer') {
      mark('answerReceived');
      applyRemote(f.sdp, 'answer');
    } else if (f.type === 'candidate') {
      if (!remoteSet) heldRemote.push(f);
      else addRemote(f);
    }
  };
  const start = () => {
    mark('start');
    create();
    wireDc(pc.createDataChannel('repro'));
  };
  const timer = setTimeout(() => finish(false, 'timeout'), TIMEOUT_MS);
  done.then(() => clearTimeout(timer));
  return {
    onFrame,
    start,
    done,
    close: () => {
      channel = undefined;
      try {
        pc?.close();
      } catch {}
    },
  };
}

// ---------------------------------------------------------------- acceptor service (both modes)

/** Listens on 127.0.0.1; every connection is one pair's acceptor side. */
function acceptorServer(onResult) {
  let k = 0;
  const server = net.createServer((socket) => {
    const send = wire(socket, (f) => s.onFrame(f));
    const s = side('acceptor', send, `acc${++k}`);
    s.done.then((r) => {
      onResult(r);
      // Keep the PC until the dialer is done too (it closes the socket).
      socket.on('close', () => s.close());
    });
    socket.on('close', () => s.close());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

if (CHILD) {
  startLogger();
  const server = await acceptorServer((r) => process.send({ kind: 'acceptor', r }));
  process.send({ kind: 'port', port: server.address().port });
  process.on('message', (m) => {
    if (m === 'stop') {
      process.send({ kind: 'logs', counts: [...logCounts], lines: verboseLines });
      server.close();
      setTimeout(() => {
        nodeDataChannel.cleanup();
        process.exit(0);
      }, 300);
    }
  });
} else {
  await main();
}

async function main() {
  startLogger();
  const loaders = [];
  for (let i = 0; i < LOAD; i++) loaders.push(spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));

  const acceptorResults = [];
  let port;
  let child;
  let server;
  let childLogs;
  let childExited;
  /** How the acceptors' process ended before it was told to stop (a native crash while closing), or undefined. */
  let childEarlyExit;
  let measuring = true;
  if (PROCESSES === 2) {
    child = fork(fileURLToPath(import.meta.url), [...args, '--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let stopping = false;
    child.stop = () => {
      stopping = true;
      if (child.connected) child.send('stop');
      return childExited;
    };
    childExited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        if (!stopping) childEarlyExit = signal ?? code;
        if (measuring) {
          console.error(`dtls-repro: the acceptors' process died during the run (${signal ?? code}); no result`);
          process.exit(1);
        }
        resolve();
      }),
    );
    port = await new Promise((resolve) => {
      child.on('message', (m) => {
        if (m.kind === 'port') resolve(m.port);
        else if (m.kind === 'acceptor') acceptorResults.push(m.r);
        else if (m.kind === 'logs') childLogs = m;
      });
    });
  } else {
    server = await acceptorServer((r) => acceptorResults.push(r));
    port = server.address().port;
  }

  const results = [];
  const dialOne = async (k) => {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const send = wire(socket, (f) => d.onFrame(f));
    const d = side('dialer', send, `dial${k}`, k);
    verboseLines = [];
    const t0 = now();
    d.start();
    const r = await d.done;
    const ms = now() - t0;
    results.push({ k, ms, ...r });
    if ((!r.ok || ms > DUMP_OVER_MS) && LOG === 'verbose' && PARALLEL === 1) {
      await new Promise((res) => setTimeout(res, 20)); // let the last log lines arrive
      console.error(`--- pair ${k} ${r.ok ? `took ${ms.toFixed(1)} ms` : `failed (${r.reason})`}; libdatachannel log of this pair:`);
      console.error(verboseLines.join('\n'));
    }
    // Give the acceptor a moment to report, then tear the pair down (with --keep: at the end, if it connected).
    await new Promise((res) => setTimeout(res, 5));
    if (KEEP && r.ok) {
      kept.push({ d, socket });
      return;
    }
    d.close();
    socket.end();
  };
  const kept = [];
  let next = 0;
  const worker = async () => {
    while (next < PAIRS) await dialOne(next++);
  };
  const wall0 = now();
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  const wall = now() - wall0;
  measuring = false;
  for (const { d, socket } of kept) {
    d.close();
    socket.end();
  }
  await new Promise((res) => setTimeout(res, 300));

  for (const p of loaders) p.kill();
  if (child) {
    await child.stop();
  } else {
    server.close();
  }

  const ok = results.filter((r) => r.ok).map((r) => r.ms);
  const failed = results.filter((r) => !r.ok);
  const pctOf = (xs, q) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] : NaN;
  };
  const pct = (q) => pctOf(ok, q);
  const acceptorByK = new Map(acceptorResults.map((a) => [a.events.k, a.events]));
  for (const r of results) r.acceptorEvents = acceptorByK.get(r.k) ?? {};
  const logTotals = new Map(logCounts);
  for (const [key, n] of childLogs?.counts ?? []) logTotals.set(key, (logTotals.get(key) ?? 0) + n);
  const summary = {
    order: ORDER,
    processes: PROCESSES,
    parallel: PARALLEL,
    log: LOG,
    load: LOAD,
    keep: KEEP,
    pairs: results.length,
    failed: failed.length,
    failReasons: Object.fromEntries(
      [...failed.reduce((m, r) => m.set(r.reason, (m.get(r.reason) ?? 0) + 1), new Map())],
    ),
    p50: pct(0.5),
    // From applying the answer to the channel open: DTLS, SCTP and the channel (and ICE, where it was not done yet).
    answerToOpenP50: pctOf(results.filter((r) => r.ok && r.events.answerApplied !== undefined).map((r) => r.events.open - r.events.answerApplied), 0.5),
    p90: pct(0.9),
    p99: pct(0.99),
    max: ok.length ? Math.max(...ok) : NaN,
    // Three modes: a few ms; ~50 ms (libjuice paces a triggered ICE check by 50 ms); ~1 s (DTLS retransmission).
    under30ms: ok.filter((ms) => ms <= 30).length,
    from30to900ms: ok.filter((ms) => ms > 30 && ms <= 900).length,
    over900ms: ok.filter((ms) => ms > 900).length,
    wallMs: wall,
    libdatachannelLog: Object.fromEntries(logTotals),
    ...(childEarlyExit !== undefined ? { acceptorProcessDied: childEarlyExit } : {}),
  };
  if (JSON_OUT) await new Promise((res) => process.stdout.write(`${JSON.stringify({ summary, results })}\n`, res));
  else {
    const f = (x) => (Number.isFinite(x) ? x.toFixed(1) : String(x));
    console.log(
      `order=${ORDER} processes=${PROCESSES} parallel=${PARALLEL} log=${LOG} load=${LOAD}: ` +
        `${summary.failed}/${summary.pairs} failed ${JSON.stringify(summary.failReasons)}; ` +
        `setup ms p50 ${f(summary.p50)} p90 ${f(summary.p90)} p99 ${f(summary.p99)} max ${f(summary.max)}; answer applied to channel open p50 ${f(summary.answerToOpenP50)}; ` +
        `${summary.from30to900ms} in 30-900 ms, ${summary.over900ms} over 900 ms; wall ${(wall / 1000).toFixed(1)} s${KEEP ? ' (pairs kept)' : ''}; ` +
        `libdatachannel log ${JSON.stringify(summary.libdatachannelLog)}` +
        (childEarlyExit !== undefined ? `; the acceptors' process died early (${childEarlyExit})` : ''),
    );
  }
  // No cleanup(): it can crash while connections are still closing; the process ends here anyway.
  process.exit(0);
}
