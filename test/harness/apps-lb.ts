// `mesos-ts lb` beside an apps cluster (test/harness/apps-cluster.ts), a web
// app of busybox httpd containers, and a steady load through HAProxy: for the
// load-balancer tests and bench/apps.ts.
//
// The web app serves its task id and version at `/`, and at
// `/cgi-bin/slow.sh` a CGI script that sleeps a second, then answers its task
// id and the request's body: a request that is in flight long enough for a
// kill to cut it, unless the instance was drained first.
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppsCluster } from './apps-cluster.js';
import { TEST_IMAGE } from './grpc-scheduler.js';
import { freePort, type Proc } from './processes.js';

export interface WebAppOptions {
  readonly id: string;
  readonly instances: number;
  /** Served at `/` after the task id, and in the env (a new one is a new configuration). */
  readonly version?: string;
  readonly cpus?: number;
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * The service port HAProxy binds. Give a free one (freePort()): the framework's own pick starts at 10000
   * for every cluster, and HAProxy binds with SO_REUSEPORT, so another test's HAProxy on this machine
   * would silently share the port and answer half the requests.
   */
  readonly servicePort?: number;
}

/**
 * The web app's definition: httpd on $PORT0, a MESOS_HTTP health check (first run after 1 s, not Marathon's
 * default 15 s, so deploy times measure the cluster; a 5 s timeout and 5 failures, for a busy machine), a 1 s kill grace.
 */
export function webApp(o: WebAppOptions): Record<string, unknown> {
  const version = o.version ?? 'v1';
  // The script is written with the task id in it: busybox httpd runs CGI scripts with their own environment.
  const script = `#!/bin/sh\\nsleep 1\\nbody=$(head -c "\${CONTENT_LENGTH:-0}")\\nprintf "Content-Type: text/plain\\\\r\\\\n\\\\r\\\\n%%s %%s\\\\n" "%s" "$body"\\n`;
  return {
    id: o.id,
    // /tmp is the only writable place and is mounted noexec: httpd runs *.sh through /bin/sh (httpd.conf).
    cmd: `mkdir -p /tmp/www/cgi-bin && echo "$MESOS_TASK_ID $WEB_VERSION" > /tmp/www/index.html && echo '*.sh:/bin/sh' > /tmp/httpd.conf && printf '${script}' "$MESOS_TASK_ID" > /tmp/www/cgi-bin/slow.sh && exec httpd -f -p "$PORT0" -h /tmp/www -c /tmp/httpd.conf`,
    cpus: o.cpus ?? 0.25,
    mem: 64,
    instances: o.instances,
    env: { WEB_VERSION: version },
    container: { type: 'DOCKER', docker: { image: TEST_IMAGE } },
    portDefinitions: [{ port: o.servicePort ?? 0, name: 'http' }],
    labels: o.labels ?? {},
    healthChecks: [{ protocol: 'MESOS_HTTP', path: '/', portIndex: 0, gracePeriodSeconds: 15, intervalSeconds: 2, timeoutSeconds: 5, maxConsecutiveFailures: 5, delaySeconds: 1 }],
    upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 },
    backoffSeconds: 0.2,
    taskKillGracePeriodSeconds: 1,
  };
}

export interface TestLb {
  readonly proc: Proc;
  /** The shared HTTP frontend's port (virtual hosts). */
  readonly httpPort: number;
  /** HAProxy's statistics page, for `mesos-ts apps --lb_stats`. */
  readonly statsUrl: string;
  readonly statsPort: number;
  /** Removes its work directory (the process itself stops with the cluster's group). */
  cleanup(): void;
}

/** Ports for an lb, chosen before the apps instance starts (it takes --lb_stats). */
export async function lbPorts(): Promise<{ httpPort: number; statsPort: number; statsUrl: string }> {
  const httpPort = await freePort();
  let statsPort = await freePort();
  while (statsPort === httpPort) statsPort = await freePort();
  return { httpPort, statsPort, statsUrl: `http://127.0.0.1:${statsPort}/haproxy?stats` };
}

/** Starts `mesos-ts lb` following `appsUrl`; resolves once HAProxy runs. */
export async function startLb(cluster: AppsCluster, appsUrl: string, ports: { httpPort: number; statsPort: number }, flags: readonly string[] = []): Promise<TestLb> {
  const dir = mkdtempSync(join(tmpdir(), 'mesos-ts-lb-e2e-'));
  const proc = cluster.group.spawnCommand('lb', [
    'lb', `--apps=${appsUrl}`, `--http_port=${ports.httpPort}`, `--stats_port=${ports.statsPort}`, `--work_dir=${dir}`, '--drain_seconds=5', '--resync_seconds=5', ...flags,
  ]);
  await proc.waitForLine(/HAProxy (started|reloaded)/, 20_000);
  return {
    proc, httpPort: ports.httpPort, statsPort: ports.statsPort, statsUrl: `http://127.0.0.1:${ports.statsPort}/haproxy?stats`,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface Answer {
  readonly status: number;
  readonly body: string;
}

/** One request on a new connection (so a draining server holds no kept-alive one): GET, or POST with a body. */
export function httpCall(port: number, path: string, options: { body?: string; host?: string; timeoutMs?: number } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...(options.host && { Host: options.host }) };
    if (options.body !== undefined) Object.assign(headers, { 'Content-Type': 'text/plain', 'Content-Length': String(Buffer.byteLength(options.body)) });
    const req = request({ host: '127.0.0.1', port, path, agent: false, method: options.body === undefined ? 'GET' : 'POST', headers, timeout: options.timeoutMs ?? 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${options.timeoutMs ?? 10_000} ms`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

export interface LoadStats {
  readonly sent: number;
  readonly ok: number;
  readonly failed: number;
  /** The first failures, described. */
  readonly failures: readonly string[];
  /** Milliseconds, sorted. */
  readonly latencies: readonly number[];
}

/** The q-quantile (0..1) of sorted values; NaN when empty. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/**
 * Requests through HAProxy at a steady rate, each on its own connection: every
 * `slowEvery`-th a POST to the slow CGI script (its body checked in the
 * answer), the others GET /. A request fails on an error, a status other
 * than 200 or a wrong body. take() answers what happened since the last take().
 */
export class LoadGenerator {
  private timer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private n = 0;
  private window = { sent: 0, ok: 0, failed: 0, failures: [] as string[], latencies: [] as number[] };

  constructor(private readonly port: number, private readonly options: { perSecond: number; slowEvery: number; host?: string }) {}

  /** Sends at the rate on average: a late timer (a busy machine) sends every request that is due. */
  start(): void {
    const started = performance.now();
    let fired = 0;
    this.timer = setInterval(() => {
      const due = Math.floor(((performance.now() - started) / 1000) * this.options.perSecond);
      for (; fired < due; fired++) this.fire();
    }, Math.max(1, Math.floor(1000 / this.options.perSecond)));
  }

  /** Stops sending and waits for the requests in flight. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all([...this.inFlight]);
  }

  /** Sent and failed since the last take(), without ending the window. */
  peek(): { sent: number; failed: number } {
    return { sent: this.window.sent, failed: this.window.failed };
  }

  take(): LoadStats {
    const w = this.window;
    this.window = { sent: 0, ok: 0, failed: 0, failures: [], latencies: [] };
    return { ...w, latencies: [...w.latencies].sort((a, b) => a - b) };
  }

  private fire(): void {
    const i = ++this.n;
    const slow = this.options.slowEvery > 0 && i % this.options.slowEvery === 0;
    const body = slow ? `order-${i}` : undefined;
    const started = performance.now();
    const w = this.window;
    w.sent++;
    const p = httpCall(this.port, slow ? '/cgi-bin/slow.sh' : '/', { ...(body !== undefined && { body }), ...(this.options.host && { host: this.options.host }) })
      .then((a) => {
        const ok = a.status === 200 && (body === undefined ? a.body.trim() !== '' : a.body.trim().endsWith(` ${body}`));
        if (!ok) throw new Error(`HTTP ${a.status}: ${JSON.stringify(a.body.slice(0, 80))}`);
        w.ok++;
        w.latencies.push(performance.now() - started);
      })
      .catch((err: unknown) => {
        w.failed++;
        if (w.failures.length < 20) w.failures.push(`${slow ? 'POST /cgi-bin/slow.sh' : 'GET /'}: ${(err as Error).message}`);
      })
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }
}
