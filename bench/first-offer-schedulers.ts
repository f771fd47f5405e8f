// bench/first-offer --wire: the frameworks as SDK Schedulers in a process of
// their own (forked by first-offer.ts), subscribing over gRPC to the bench's
// master. Reports over IPC, per framework: when start() was called, when
// SUBSCRIBED and the first OFFERS were dispatched (wall clock, comparable with
// the parent's), and this process's CPU time between the two, which a busy
// machine does not stretch (the process does nothing else meanwhile but
// receive and decode).
import { Scheduler, silentLogger } from '../framework/sdk/index.js';

const wall = (): number => performance.timeOrigin + performance.now();
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

export interface WireFramework {
  readonly name: string;
  readonly constructMs: number;
  readonly startedAt: number;
  subscribedAt?: number;
  subscribedCpuMs?: number;
  firstOfferAt?: number;
  firstOfferCpuMs?: number;
  firstOffers?: number;
}

function subscribe(master: string, name: string, report: (f: WireFramework) => void): void {
  const constructed = wall();
  const scheduler = new Scheduler({ master, framework: { name, failoverTimeoutSeconds: 60 }, logger: silentLogger });
  const f: WireFramework = { name, constructMs: wall() - constructed, startedAt: wall() };
  scheduler.on('subscribed', () => {
    f.subscribedAt = wall();
    f.subscribedCpuMs = cpuMs();
  });
  scheduler.on('offers', (e) => {
    if (f.firstOfferAt === undefined) {
      f.firstOfferAt = wall();
      f.firstOfferCpuMs = cpuMs();
      f.firstOffers = e.offers.length;
      report(f);
    }
    // Declined for a minute: the agents go to the frameworks still waiting, as bench:scale's schedulers' do.
    scheduler.decline(e.offers, { refuseSeconds: 60 }).catch(() => {});
  });
  scheduler.start().catch(() => {});
}

process.on('message', (m: { master: string; names: string[] }) => {
  for (const name of m.names) subscribe(m.master, name, (f) => process.send?.(f));
});
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: true });
