// Faults between simulated hosts (hosts.ts) and of processes. Network
// faults are iptables DROP rules inside the hosts' namespaces, matched on the
// peers' addresses, so the root namespace (test code, the shared Docker
// engine) keeps seeing every host. Every rule added is remembered, and heal()
// deletes exactly those (`-D` with the same spec), nothing else. The rules of
// one fault go in with one `iptables-restore --noflush` per host, all hosts
// at once: one iptables command per rule took up to 40 s to isolate a host
// (32 rules) on the loaded machine.
// Dropped, not rejected: the peer hears nothing, as with a cut cable, and TCP
// connections hang until their own timeouts. This kernel has no netem
// (`tc qdisc ... netem`), so there are no delays, reordering or partial loss.
import { execFile } from 'node:child_process';
import type { Host } from './hosts.js';

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
    await this.add([...oneWay(a, b), ...oneWay(b, a)]);
  }

  /**
   * No packet from `from` reaches `to`; packets from `to` still reach `from`.
   * Dropped on both ends (OUTPUT on `from`, INPUT on `to`). TCP needs both
   * directions, so a one-way cut stalls TCP both ways; datagrams show it is one-way.
   */
  async partitionOneWay(from: Host, to: Host): Promise<void> {
    await this.add(oneWay(from, to));
  }

  /** `host` cut off from each of `others` (the root namespace still reaches it). */
  async isolate(host: Host, others: readonly Host[]): Promise<void> {
    await this.add(others.filter((o) => o !== host).flatMap((o) => [...oneWay(host, o), ...oneWay(o, host)]));
  }

  /** Every pair of `masters` partitioned: each master alone, each still reaching every other host. */
  async splitMasters(masters: readonly Host[]): Promise<void> {
    const rules: Rule[] = [];
    for (let i = 0; i < masters.length; i++) for (let j = i + 1; j < masters.length; j++) rules.push(...oneWay(masters[i]!, masters[j]!), ...oneWay(masters[j]!, masters[i]!));
    await this.add(rules);
  }

  /** Removes every rule this Faults added; safe to call with none. A host whose rules could not be deleted keeps them listed. */
  async heal(): Promise<void> {
    const rules = this.rules.splice(0);
    const failed = await onEachHost(rules, '-D');
    this.rules.push(...failed.flatMap((f) => f.rules));
    if (failed.length > 0) throw failed[0]!.error;
  }

  /** How many rules are in force (for tests of the harness). */
  get active(): number {
    return this.rules.length;
  }

  /** Inserts `rules`; on a failure, what went in on other hosts is taken out again and the error thrown. */
  private async add(rules: readonly Rule[]): Promise<void> {
    const failed = await onEachHost(rules, '-I');
    const failedHosts = new Set(failed.map((f) => f.host));
    const added = rules.filter((r) => !failedHosts.has(r.host));
    if (failed.length === 0) {
      this.rules.push(...added);
      return;
    }
    await onEachHost(added, '-D');
    throw failed[0]!.error;
  }
}

/** The rules that drop what `from` sends to `to`, on both ends. */
function oneWay(from: Host, to: Host): Rule[] {
  if (from === to) throw new Error(`cannot partition host '${from.name}' from itself`);
  return [{ host: from, chain: 'OUTPUT', spec: ['-d', to.address, '-j', 'DROP'] }, { host: to, chain: 'INPUT', spec: ['-s', from.address, '-j', 'DROP'] }];
}

/** `op` (-I or -D) of every rule, one iptables-restore per host, all hosts at once; the hosts where it failed. */
async function onEachHost(rules: readonly Rule[], op: '-I' | '-D'): Promise<{ host: Host; rules: Rule[]; error: Error }[]> {
  const byHost = new Map<Host, Rule[]>();
  for (const r of rules) byHost.set(r.host, [...(byHost.get(r.host) ?? []), r]);
  const results = await Promise.all([...byHost].map(async ([host, hostRules]) => {
    const error = await restore(host, hostRules.map((r) => [op, r.chain, ...r.spec].join(' '))).then(() => null, (err: Error) => err);
    return error ? [{ host, rules: hostRules, error }] : [];
  }));
  return results.flat();
}

/** The filter table's `lines` applied in one transaction on `host` (`iptables-restore --noflush`: other rules stay). */
async function restore(host: Host, lines: readonly string[]): Promise<void> {
  // -w: wait for the xtables lock (other runs may be changing their own namespaces' tables).
  const [cmd, ...pre] = [...host.nsenter(), 'iptables-restore', '-w', '5', '--noflush'];
  const input = ['*filter', ...lines, 'COMMIT', ''].join('\n');
  await new Promise<void>((resolve, reject) => {
    const child = execFile(cmd!, pre, (err, _stdout, stderr) => {
      if (err) reject(new Error(`on host '${host.name}': iptables-restore of ${lines.join('; ')}: ${(stderr || err.message).trim()}`));
      else resolve();
    });
    child.stdin!.end(input);
  });
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
