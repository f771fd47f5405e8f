// The simulated hosts and network faults themselves (test/harness/hosts.ts,
// faults.ts): hosts get their addresses and reach each other through the
// bridge, a partition drops traffic both ways and heal() restores it, a
// one-way partition is one-way, and a crashed run's leftovers are swept.
// Traffic is checked with small node programs run inside the namespaces.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mountsUnder } from '../../common/hosts/engine-leftovers.js';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostNetwork, HOSTS_STATE_DIR, processStart, sweepHosts, type Host } from '../harness/hosts.js';
import { Faults } from '../harness/faults.js';
import { waitUntil } from '../harness/wait-until.js';
import { startRun } from '../harness/crashing-run.js';

const run = promisify(execFile);
const TCP_PORT = 7000;
const UDP_PORT = 7001;

// Listens on TCP and UDP on the host's address; prints `udp <sender>` per datagram, answers TCP with `hello`.
const LISTENER = `
const net = require('node:net'), dgram = require('node:dgram'), [ip] = process.argv.slice(1);
net.createServer((s) => s.end('hello')).listen(${TCP_PORT}, ip, () => console.log('listening'));
dgram.createSocket('udp4').on('message', (m, r) => console.log('udp ' + r.address + ' ' + m)).bind(${UDP_PORT}, ip);
`;
// `tcp IP`: exit 0 when a connection is answered within 1.5 s. `udp IP TAG`: one datagram.
const PROBE = `
const net = require('node:net'), dgram = require('node:dgram'), [kind, ip, tag] = process.argv.slice(1);
if (kind === 'tcp') {
  const s = net.connect(${TCP_PORT}, ip); s.setTimeout(1500, () => process.exit(1));
  s.on('data', () => process.exit(0)); s.on('error', () => process.exit(1));
} else { const u = dgram.createSocket('udp4'); u.send(tag, ${UDP_PORT}, ip, () => u.close()); }
`;

interface Listener {
  readonly child: ChildProcess;
  readonly lines: string[];
}

function listen(host: Host): Promise<Listener> {
  const [cmd, ...pre] = host.nsenter();
  const child = spawn(cmd!, [...pre, process.execPath, '-e', LISTENER, host.address], { stdio: ['ignore', 'pipe', 'inherit'] });
  host.track(child.pid!);
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l));
  return waitUntil(() => lines.includes('listening'), 20_000, `a listener on ${host.name}`).then(() => ({ child, lines }));
}

/** From `from` (null: the root namespace), does a TCP connection to `to` get answered? */
async function tcpReaches(from: Host | null, to: Host): Promise<boolean> {
  const [cmd, ...pre] = from ? from.nsenter() : [process.execPath];
  const args = from ? [...pre, process.execPath, '-e', PROBE, 'tcp', to.address] : ['-e', PROBE, 'tcp', to.address];
  return run(cmd!, args).then(() => true, () => false);
}

async function udpSend(from: Host, to: Host, tag: string): Promise<void> {
  const [cmd, ...pre] = from.nsenter();
  await run(cmd!, [...pre, process.execPath, '-e', PROBE, 'udp', to.address, tag]);
}

describe('simulated hosts and network faults', () => {
  let net: HostNetwork;
  let a: Host;
  let b: Host;
  let c: Host;
  const listeners: Listener[] = [];
  const faults = new Faults();

  beforeAll(async () => {
    net = await HostNetwork.create(['a', 'b', 'c']);
    [a, b, c] = [net.host('a'), net.host('b'), net.host('c')];
    for (const h of [a, b, c]) listeners.push(await listen(h));
  });

  afterAll(async () => {
    await faults.heal();
    await net?.destroy();
  });

  it('gives each host its own namespace and address in 198.18.0.0/15, reachable from the root namespace and from each other', async () => {
    const addresses = [a, b, c].map((h) => h.address);
    expect(new Set(addresses).size).toBe(3);
    for (const h of [a, b, c]) {
      expect(h.address).toMatch(/^198\.1[89]\./);
      expect(h.netns.startsWith(net.prefix + '-')).toBe(true);
      const { stdout } = await run('ip', ['-n', h.netns, '-4', '-o', 'addr', 'show']);
      expect(stdout).toContain(`${h.address}/24`);
      expect(stdout).toMatch(/\blo\b.*127\.0\.0\.1/);
      expect(await tcpReaches(null, h)).toBe(true);
    }
    expect(await tcpReaches(a, b)).toBe(true);
    expect(await tcpReaches(c, a)).toBe(true);
    // Another host's address is not bound here: the namespaces are separate.
    const { stdout } = await run('ip', ['-n', a.netns, '-4', '-o', 'addr', 'show']);
    expect(stdout).not.toContain(b.address + '/');
  });

  it('partition drops traffic both ways, leaves other pairs alone, and heal restores it', async () => {
    await faults.partition(a, b);
    expect(faults.active).toBe(4);
    expect(await tcpReaches(a, b)).toBe(false);
    expect(await tcpReaches(b, a)).toBe(false);
    expect(await tcpReaches(a, c)).toBe(true);
    expect(await tcpReaches(null, a)).toBe(true);
    await faults.heal();
    expect(faults.active).toBe(0);
    expect(await tcpReaches(a, b)).toBe(true);
    expect(await tcpReaches(b, a)).toBe(true);
    // heal() removed exactly what was added: the tables are empty again.
    for (const h of [a, b]) {
      const { stdout } = await run('nsenter', [`--net=/var/run/netns/${h.netns}`, 'iptables', '-w', '5', '-S']);
      expect(stdout.split('\n').filter((l) => l.startsWith('-A'))).toEqual([]);
    }
  });

  it('a one-way partition drops only one direction', async () => {
    await faults.partitionOneWay(a, b);
    const [la, lb] = [listeners[0]!, listeners[1]!];
    await udpSend(a, b, 'a-to-b-cut');
    await udpSend(b, a, 'b-to-a-open');
    await waitUntil(() => la.lines.includes(`udp ${b.address} b-to-a-open`), 10_000, 'the datagram from b on a');
    // The b -> a datagram went later than a -> b; a -> b was dropped, not delayed.
    expect(lb.lines).not.toContain(`udp ${a.address} a-to-b-cut`);
    await faults.heal();
    await udpSend(a, b, 'a-to-b-healed');
    await waitUntil(() => lb.lines.includes(`udp ${a.address} a-to-b-healed`), 10_000, 'the datagram from a on b after heal');
  });

  it('isolate cuts a host off from every other host, not from the root namespace', async () => {
    await faults.isolate(c, [a, b, c]);
    expect(await tcpReaches(a, c)).toBe(false);
    expect(await tcpReaches(c, b)).toBe(false);
    expect(await tcpReaches(a, b)).toBe(true);
    expect(await tcpReaches(null, c)).toBe(true);
    await faults.heal();
    expect(await tcpReaches(a, c)).toBe(true);
  });
});

describe('the sweeper', () => {
  it("removes a crashed run's namespaces, bridge, processes and mounts, and leaves a live run alone", async () => {
    const live = await HostNetwork.create(['x']);
    let leftMount: string | undefined;
    try {
      // A run in a process of its own, SIGKILLed once its host and a process on it are up.
      const script = `
        import { HostNetwork } from './test/harness/hosts.ts';
        import { execFileSync, spawn } from 'node:child_process';
        import { mkdtempSync } from 'node:fs';
        const net = await HostNetwork.create(['y']);
        const mount = mkdtempSync('/tmp/mts-sweep-mount-');
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mount]);
        net.trackMount(mount);
        const h = net.host('y');
        const [cmd, ...pre] = h.nsenter();
        const sleeper = spawn(cmd, [...pre, 'sleep', '600'], { stdio: 'ignore', detached: true });
        h.track(sleeper.pid);
        console.log(JSON.stringify({ netns: h.netns, bridge: net.bridge, pid: sleeper.pid, start: net.state.pids[0].start, mount }));
        setInterval(() => {}, 1000);
      `;
      const { child: crashed, first: left } = await startRun<{ netns: string; bridge: string; pid: number; start: string; mount: string }>(script);
      leftMount = left.mount;
      crashed.kill('SIGKILL');
      await new Promise((r) => crashed.once('close', r));
      expect(existsSync(`/var/run/netns/${left.netns}`)).toBe(true);
      expect(processStart(left.pid)).toBe(left.start);
      expect(mountsUnder(left.mount)).toEqual([left.mount]);

      const swept = await sweepHosts();
      expect(swept.length).toBeGreaterThanOrEqual(1);
      expect(existsSync(`/var/run/netns/${left.netns}`)).toBe(false);
      expect(existsSync(`/sys/class/net/${left.bridge}`)).toBe(false);
      await waitUntil(() => processStart(left.pid) !== left.start, 10_000, 'the leftover process to be gone');
      expect(mountsUnder(left.mount)).toEqual([]);
      // The live run (this process) keeps everything.
      expect(existsSync(`/var/run/netns/${live.host('x').netns}`)).toBe(true);
      expect(existsSync(`${HOSTS_STATE_DIR}/run-${live.run}.json`)).toBe(true);
    } finally {
      await live.destroy();
      // Should the sweep have failed to, the mount is this test's to remove.
      if (leftMount && mountsUnder(leftMount).length > 0) await run('umount', ['-l', leftMount]);
      if (leftMount) rmSync(leftMount, { recursive: true, force: true });
    }
    expect(existsSync(`/var/run/netns/${live.host('x').netns}`)).toBe(false);
  });
});
