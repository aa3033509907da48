/**
 * The pure "host:port" validator (main/protocol/host-port.ts, used by pages
 * that cannot import node:net) accepts and refuses exactly what the node's
 * parseSignalAddress does, with the same words, and its IP literal rules
 * are Node's net.isIP.
 */
import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../main/model/prng.js';
import { ipFamily, parseHostPort } from '../main/protocol/host-port.js';
import { parseSignalAddress } from '../main/transport/signaling.js';

const EXAMPLES: unknown[] = [
  '127.0.0.1:7710',
  '192.168.1.20:7710',
  '[::1]:7710',
  '[fe80::1]:80',
  '[fe80::1%eth0]:80',
  '[::ffff:192.168.0.1]:7710',
  '[1:2:3:4:5:6:7:8]:1',
  '[1:2:3:4:5:6:7:8:9]:1',
  '[::1:7710',
  '[::1]7710',
  '[127.0.0.1]:7710',
  '::1:7710',
  'node.local:7710',
  'node.local.:7710',
  'My-Host:65535',
  '-bad.local:7710',
  'bad-.local:7710',
  'a..b:7710',
  '.:7710',
  `${'a'.repeat(63)}.local:7710`,
  `${'a'.repeat(64)}.local:7710`,
  `${'abcdefghi.'.repeat(25)}abc:1`,
  `${'abcdefghi.'.repeat(26)}:1`,
  '256.1.1.1:7710',
  '01.2.3.4:7710',
  '1.2.3:7710',
  '1.2.3.4.5:7710',
  '127.0.0.1:0',
  '127.0.0.1:65536',
  '127.0.0.1:123456',
  '127.0.0.1:+80',
  '127.0.0.1:0x50',
  '127.0.0.1:',
  '127.0.0.1',
  ':7710',
  'http://127.0.0.1:7710',
  '127.0.0.1:7710/join',
  ' 127.0.0.1:7710',
  '127.0.0.1:7710 ',
  '127.0.0.1 :7710',
  'host\t:1',
  '',
  'x'.repeat(301),
  'x'.repeat(295) + ':7710',
  'ünicode.local:7710',
  'xn--nicode-2ya.local:7710',
  7710,
  null,
  undefined,
  { host: 'a', port: 1 },
];

/** Short random strings over the characters addresses are made of, plus mutations of good ones. */
function fuzzInputs(count: number, seed: number): string[] {
  const random = seededRandom(seed);
  const alphabet = '0123456789abcdefABCDEF:.[]%-xyz/ _';
  const pick = (s: string) => s[Math.floor(random() * s.length)]!;
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 2 === 0) {
      const length = 1 + Math.floor(random() * 24);
      let s = '';
      for (let j = 0; j < length; j++) s += pick(alphabet);
      out.push(s);
    } else {
      const base = String(EXAMPLES[Math.floor(random() * 26)]);
      const at = Math.floor(random() * (base.length + 1));
      const mutated = random() < 0.5 ? base.slice(0, at) + pick(alphabet) + base.slice(at) : base.slice(0, at) + base.slice(at + 1);
      out.push(mutated);
    }
  }
  return out;
}

function ipv6Variants(count: number, seed: number): string[] {
  const random = seededRandom(seed);
  const group = () => Math.floor(random() * 0x10000).toString(16).slice(0, 1 + Math.floor(random() * 4));
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = 1 + Math.floor(random() * 9);
    const groups = Array.from({ length: n }, group);
    if (random() < 0.5) groups.splice(Math.floor(random() * (n + 1)), 0, '');
    if (random() < 0.2) groups[groups.length - 1] = '10.0.0.1';
    out.push(groups.join(':'));
  }
  return out;
}

describe('parseHostPort', () => {
  it('agrees with parseSignalAddress on every example, with the same message', () => {
    const disagreements: string[] = [];
    let accepted = 0;
    for (const input of [...EXAMPLES, ...fuzzInputs(20_000, 1), ...ipv6Variants(5000, 2).map((h) => `[${h}]:7710`)]) {
      const pure = parseHostPort(input);
      if (pure.ok) accepted++;
      const node = parseSignalAddress(input);
      const expected = node.ok
        ? { ok: true, value: { host: node.value.host, port: node.value.port, family: node.value.family, address: node.value.address } }
        : node;
      if (JSON.stringify(pure) !== JSON.stringify(expected)) disagreements.push(`${JSON.stringify(input)}: ${JSON.stringify(pure)} vs ${JSON.stringify(expected)}`);
    }
    expect(disagreements).toEqual([]);
    // both answers are well represented
    expect(accepted).toBeGreaterThan(2000);
  });

  it('accepts the usual forms and says what is wrong with the rest', () => {
    expect(parseHostPort('[::1]:7710')).toEqual({ ok: true, value: { host: '::1', port: 7710, family: 6, address: '[::1]:7710' } });
    expect(parseHostPort('node.local:7710')).toMatchObject({ ok: true, value: { family: 0, address: 'node.local:7710' } });
    expect(parseHostPort('localhost')).toEqual({ ok: false, detail: 'missing ":port"' });
    expect(parseHostPort('1.2.3.4:99999')).toEqual({ ok: false, detail: 'port 99999 is out of range 1-65535' });
  });
});

describe('ipFamily', () => {
  it('is net.isIP on IP-like strings', () => {
    const inputs = [...ipv6Variants(20_000, 3), ...fuzzInputs(20_000, 4), '::', '::1', '1::', 'fe80::1%eth0', '::ffff:1.2.3.4', '1.2.3.4', '0.0.0.0', '255.255.255.255'];
    const wrong = inputs.filter((s) => ipFamily(s) !== isIP(s));
    expect(wrong).toEqual([]);
    // the generator does produce both kinds
    expect(inputs.filter((s) => isIP(s) === 6).length).toBeGreaterThan(1000);
  });
});
