// bench/apps: the apps framework behind `mesos-ts lb` under steady traffic.
//
// ZooKeeper, a master, three agents (127.0.0.2-4), `mesos-ts apps` reading
// the lb's statistics page (--lb_stats: kills wait for the drain), and
// `mesos-ts lb` with HAProxy, all real processes (test/harness). A web app of
// busybox httpd containers is deployed, then, while a load generator sends
// requests through HAProxy at a steady rate (each on a new connection; every
// n-th a POST to a CGI script that takes a second), it goes through:
//   upgrade     PUT with a changed env: a rolling upgrade of every instance
//   scale-down  PUT instances 3
//   scale-up    PUT instances back
//   kill        DELETE one task (drained, killed, replaced)
// For each: requests sent and failed, p50/p99 latency, and the time from the
// request to deployment success (for kill: until a replacement is healthy).
// Then the time from POST to every instance healthy for a fresh app of
// --instances and of --big instances, with no traffic.
//   npx tsx bench/apps.ts [--rate 50] [--slow_every 5] [--instances 10] [--big 50] [--step_timeout 600]
import { parseFlags, usage, type FlagSpecs } from '../common/flags.js';
import { api, startAppsCluster, type AppsProc } from '../test/harness/apps-cluster.js';
import { LoadGenerator, httpCall, lbPorts, quantile, startLb, webApp, type LoadStats, type TestLb } from '../test/harness/apps-lb.js';
import { freePort } from '../test/harness/processes.js';

const FLAGS = {
  rate: { type: 'number', default: 50, help: 'requests per second through HAProxy during the steps' },
  slow_every: { type: 'number', default: 5, help: 'every n-th request is a POST to the 1 s CGI script' },
  instances: { type: 'number', default: 10, help: 'instances of the web app' },
  big: { type: 'number', default: 50, help: 'instances of the second deploy-time measure (0: skip)' },
  scale_to: { type: 'number', default: 3, help: 'instances of the scale-down step' },
  step_timeout: { type: 'duration', default: 600, help: 'a step not done this long after its request fails the bench' },
} as const satisfies FlagSpecs;

const ID = '/bench/web';
const secs = (ms: number) => (ms / 1000).toFixed(1);
const log = (line: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

interface Row {
  readonly step: string;
  readonly load: LoadStats | null;
  readonly seconds: number;
}

async function main(): Promise<void> {
  const flags = parseFlags(FLAGS, process.argv.slice(2));
  if (flags.help) {
    process.stdout.write(usage('bench/apps.ts', 'The apps framework and mesos-ts lb under steady traffic.', FLAGS) + '\n');
    return;
  }
  log('starting ZooKeeper, a master, 3 agents, mesos-ts apps and mesos-ts lb');
  const cluster = await startAppsCluster(['127.0.0.2', '127.0.0.3', '127.0.0.4'], { agentResources: 'cpus:8;mem:4096;disk:1024' });
  let lb: TestLb | null = null;
  try {
    const ports = await lbPorts();
    const apps = await cluster.startApps('apps-1', [`--lb_stats=${ports.statsUrl}`]);
    await apps.waitForLine(/leading and ready/, 30_000);
    lb = await startLb(cluster, apps.url, ports);
    const bench = new Bench(apps, flags.step_timeout * 1000);
    const rows: Row[] = [];

    const servicePort = await freePort();
    rows.push({ step: `deploy ${flags.instances} (no traffic)`, load: null, seconds: await bench.deploy(webApp({ id: ID, instances: flags.instances, servicePort }), flags.instances) });
    const load = new LoadGenerator(servicePort, { perSecond: flags.rate, slowEvery: flags.slow_every });
    await bench.routed(servicePort);
    log(`load: ${flags.rate} requests/s through HAProxy on 127.0.0.1:${servicePort}, every ${flags.slow_every}th a slow POST`);
    load.start();
    try {
      bench.progress = () => {
        const p = load.peek();
        return `; load: ${p.sent} sent, ${p.failed} failed`;
      };
      const step = async (name: string, run: () => Promise<number>) => {
        load.take();
        const seconds = await run();
        rows.push({ step: name, load: load.take(), seconds });
      };
      await step('rolling upgrade (PUT env)', () => bench.put({ env: { WEB_VERSION: 'v2' } }, flags.instances));
      await step(`scale-down to ${flags.scale_to}`, () => bench.put({ instances: flags.scale_to }, flags.scale_to));
      await step(`scale-up to ${flags.instances}`, () => bench.put({ instances: flags.instances }, flags.instances));
      await step('kill one task (DELETE)', () => bench.killOne(flags.instances));
    } finally {
      await load.stop();
      bench.progress = () => '';
    }
    await bench.remove(ID);
    for (const n of flags.big > 0 ? [flags.big] : []) {
      const id = `/bench/big${n}`;
      rows.push({ step: `deploy ${n} (no traffic)`, load: null, seconds: await bench.deploy(webApp({ id, instances: n, cpus: 0.1, servicePort: await freePort() }), n, id) });
      await bench.remove(id);
    }
    printTable(rows, flags);
  } finally {
    log('stopping the cluster');
    await cluster.stop();
    lb?.cleanup();
  }
}

/** The steps' plumbing: requests to the apps API and waits, with progress every few seconds. */
class Bench {
  /** Appended to progress lines (the load's counts while it runs). */
  progress: () => string = () => '';

  constructor(private readonly apps: AppsProc, private readonly timeoutMs: number) {}

  /** POST the app; seconds until its deployment succeeded with every instance healthy. */
  async deploy(app: Record<string, unknown>, n: number, id = ID): Promise<number> {
    const started = performance.now();
    const res = await api(this.apps.url, 'POST', '/v2/apps', app);
    if (res.status !== 201) throw new Error(`POST ${id}: ${res.status} ${JSON.stringify(res.body)}`);
    await this.done(`deploy ${id}`, res.headers.get('marathon-deployment-id') ?? '', n, id, started);
    return (performance.now() - started) / 1000;
  }

  async put(change: Record<string, unknown>, n: number): Promise<number> {
    const started = performance.now();
    const res = await api(this.apps.url, 'PUT', `/v2/apps${ID}`, change);
    if (res.status !== 200) throw new Error(`PUT ${ID}: ${res.status} ${JSON.stringify(res.body)}`);
    await this.done(`PUT ${JSON.stringify(change)}`, String(res.body.deploymentId), n, ID, started);
    return (performance.now() - started) / 1000;
  }

  /** DELETE one task; seconds until a replacement runs and all `n` are healthy again. */
  async killOne(n: number): Promise<number> {
    const tasks = (await api(this.apps.url, 'GET', `/v2/apps${ID}/tasks`)).body.tasks as { id: string }[];
    const victim = tasks[0]!.id;
    const started = performance.now();
    const res = await api(this.apps.url, 'DELETE', `/v2/apps${ID}/tasks/${victim}`);
    if (res.status !== 200) throw new Error(`DELETE ${victim}: ${res.status} ${JSON.stringify(res.body)}`);
    await this.until(`kill ${victim}`, started, async () => {
      const app = (await api(this.apps.url, 'GET', `/v2/apps${ID}`)).body.app;
      const ids = (app.tasks as { id: string }[]).map((t) => t.id);
      return { done: !ids.includes(victim) && app.tasksHealthy === n && ids.length === n, note: `healthy ${app.tasksHealthy}/${n}` };
    });
    return (performance.now() - started) / 1000;
  }

  async remove(id: string): Promise<void> {
    const started = performance.now();
    await api(this.apps.url, 'DELETE', `/v2/apps${id}`);
    await this.until(`delete ${id}`, started, async () => {
      const left = ((await api(this.apps.url, 'GET', '/v2/tasks')).body.tasks as { appId: string }[]).filter((t) => t.appId === id).length;
      return { done: left === 0, note: `${left} task(s) left` };
    });
  }

  /** Waits until HAProxy answers on the service port. */
  async routed(port: number): Promise<void> {
    await this.until('HAProxy to route', performance.now(), async () => ({ done: (await httpCall(port, '/').catch(() => null))?.status === 200, note: '' }));
  }

  private async done(what: string, deploymentId: string, n: number, id: string, started: number): Promise<void> {
    await this.until(what, started, async () => {
      const [deps, app] = await Promise.all([api(this.apps.url, 'GET', '/v2/deployments'), api(this.apps.url, 'GET', `/v2/apps${id}`)]);
      const running = (deps.body as { id: string }[]).some((d) => d.id === deploymentId);
      const healthy = app.body.app.tasksHealthy as number;
      return { done: !running && healthy === n, note: `healthy ${healthy}/${n}, ${(app.body.app.tasks as unknown[]).length} task(s)` };
    });
  }

  private async until(what: string, started: number, check: () => Promise<{ done: boolean; note: string }>): Promise<void> {
    let last = 0;
    for (;;) {
      const { done, note } = await check();
      const elapsed = performance.now() - started;
      if (done) {
        log(`${what}: done in ${secs(elapsed)} s`);
        return;
      }
      if (elapsed > this.timeoutMs) throw new Error(`${what}: not done after ${secs(elapsed)} s (${note})`);
      if (elapsed - last >= 5000) {
        last = elapsed;
        log(`${what}: ${secs(elapsed)} s, ${note}${this.progress()}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function printTable(rows: readonly Row[], flags: { rate: number; slow_every: number }): void {
  const header = ['step', 'sent', 'req/s', 'failed', 'p50 ms', 'p99 ms', 'to success s'];
  const lines = rows.map((r) => [
    r.step,
    r.load ? String(r.load.sent) : '-',
    r.load ? (r.load.sent / r.seconds).toFixed(0) : '-',
    r.load ? String(r.load.failed) : '-',
    r.load ? quantile(r.load.latencies, 0.5).toFixed(0) : '-',
    r.load ? quantile(r.load.latencies, 0.99).toFixed(0) : '-',
    r.seconds.toFixed(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  process.stdout.write(`\nload: ${flags.rate} requests/s, every ${flags.slow_every}th a 1 s POST; latencies of the answered requests\n`);
  process.stdout.write(`${fmt(header)}\n${fmt(widths.map((w) => '-'.repeat(w)))}\n${lines.map(fmt).join('\n')}\n`);
  for (const r of rows) for (const f of r.load?.failures ?? []) process.stdout.write(`  ${r.step}: ${f}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/apps: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
