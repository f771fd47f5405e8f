// Faults between simulated hosts (hosts.ts) and of processes. Network
// faults are iptables DROP rules inside the hosts' namespaces, matched on the
// peers' addresses, so the root namespace (test code, the shared Docker
// engine) keeps seeing every host. Every rule added is remembered, and heal()
// deletes exactly those (`iptables -D` with the same spec), nothing else.
// Dropped, not rejected: the peer hears nothing, as with a cut cable, and TCP
// connections hang until their own timeouts. This kernel has no netem
// (`tc qdisc ... netem`), so there are no delays, reordering or partial loss.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Host } from './hosts.js';

const run = promisify(execFile);

/** What can be signalled: a harness Proc, or any pid. */
export type Signallable = { signal(sig: NodeJS.Signals): void; readonly exited?: Promise<unknown> } | number;

interface Rule {
  readonly host: Host;
  readonly chain: 'INPUT' | 'OUTPUT';
  readonly spec: string[];
}

export class Faults {
  private readonly rules: Rule[] = [];

  /** No traffic between `a` and `b`, either way. */
  async partition(a: Host, b: Host): Promise<void> {
    await this.partitionOneWay(a, b);
    await this.partitionOneWay(b, a);
  }

  /**
   * No packet from `from` reaches `to`; packets from `to` still reach `from`.
   * Dropped on both ends (OUTPUT on `from`, INPUT on `to`). TCP needs both
   * directions, so a one-way cut stalls TCP both ways; datagrams show it is one-way.
   */
  async partitionOneWay(from: Host, to: Host): Promise<void> {
    if (from === to) throw new Error(`cannot partition host '${from.name}' from itself`);
    await this.add({ host: from, chain: 'OUTPUT', spec: ['-d', to.address, '-j', 'DROP'] });
    await this.add({ host: to, chain: 'INPUT', spec: ['-s', from.address, '-j', 'DROP'] });
  }

  /** `host` cut off from each of `others` (the root namespace still reaches it). */
  async isolate(host: Host, others: readonly Host[]): Promise<void> {
    for (const o of others) if (o !== host) await this.partition(host, o);
  }

  /** Every pair of `masters` partitioned: each master alone, each still reaching every other host. */
  async splitMasters(masters: readonly Host[]): Promise<void> {
    for (let i = 0; i < masters.length; i++) for (let j = i + 1; j < masters.length; j++) await this.partition(masters[i]!, masters[j]!);
  }

  /** Removes every rule this Faults added, last first; safe to call with none. */
  async heal(): Promise<void> {
    for (let rule = this.rules.pop(); rule; rule = this.rules.pop()) await iptables(rule.host, ['-D', rule.chain, ...rule.spec]);
  }

  /** How many rules are in force (for tests of the harness). */
  get active(): number {
    return this.rules.length;
  }

  private async add(rule: Rule): Promise<void> {
    await iptables(rule.host, ['-I', rule.chain, ...rule.spec]);
    this.rules.push(rule);
  }
}

async function iptables(host: Host, args: string[]): Promise<void> {
  // -w: wait for the xtables lock (other runs may be changing their own namespaces' tables).
  const [cmd, ...pre] = [...host.nsenter(), 'iptables', '-w', '5', ...args];
  try {
    await run(cmd!, pre);
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`on host '${host.name}': iptables ${args.join(' ')}: ${(e.stderr ?? e.message).trim()}`);
  }
}

function send(target: Signallable, sig: NodeJS.Signals): void {
  if (typeof target === 'number') {
    try {
      process.kill(target, sig);
    } catch {
      // Already gone.
    }
  } else target.signal(sig);
}

/** SIGKILL; resolves once a harness Proc has exited (a bare pid: at once). */
export async function kill(target: Signallable): Promise<void> {
  send(target, 'SIGKILL');
  if (typeof target !== 'number') await target.exited;
}

/** SIGSTOP: frozen, its sockets open and silent. */
export function pause(target: Signallable): void {
  send(target, 'SIGSTOP');
}

/** SIGCONT after pause(). */
export function resume(target: Signallable): void {
  send(target, 'SIGCONT');
}
