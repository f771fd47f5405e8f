// `mesos-ts apps`: the apps framework process. It serves the REST API at
// once, contends for leadership in ZooKeeper (--zk), and while it leads runs
// the framework: state loaded from ZooKeeper, SUBSCRIBE with the stored
// FrameworkID and a failover_timeout, reconcile, then schedule. Losing
// leadership ends the process (as Marathon does): its successor takes over
// the same FrameworkID and the same tasks. SIGTERM/SIGINT leave without
// tearing the framework down, so the tasks keep running.
import { randomUUID } from 'node:crypto';
import { hostname as osHostname } from 'node:os';
import { CLIENT_CREDENTIAL_FLAGS, clientCredential } from '../../common/credentials.js';
import { TLS_FLAGS, clientTls, tlsConfig, withTlsEnvironment, type Tls } from '../../common/tls.js';
import { listenHttp, type HttpListener } from '../../common/tls-listener.js';
import { parseFlags, usage, type Flags } from '../../common/flags.js';
import { InvalidArgument, errorMessage } from '../../common/errors.js';
import { systemClock } from '../../common/clock.js';
import { createLogger, type Logger } from '../../common/log/logger.js';
import { redactText } from '../../common/log/redact.js';
import { checkMasterFlag, parseZkUrl } from '../../common/zk/url.js';
import { ZkSession } from '../../common/zk/session.js';
import { MasterContender } from '../../master/election/contender.js';
import { EventBus } from './events.js';
import { API_AUTHENTICATION_FLAGS, apiAuthentication, type ApiAuthentication } from './api-authentication.js';
import { appsHttpHandler } from './http-api.js';
import { AppsOperations } from './operations.js';
import { AppsRuntime, AppsState } from './runtime.js';
import type { Scheduler, SchedulerOptions } from '../sdk/scheduler.js';
import { ZkAppsStore } from './store.js';
import { AutoscaleLoop } from './autoscale-loop.js';
import { AgentCpuUsage, LoadBalancerRequestRate } from './autoscale-metrics.js';
import { LB_STATS_FLAG, parseLbStats } from './lb-stats-flag.js';

export const APPS_FLAGS = {
  master: { type: 'string', required: true, help: 'the master: HOST:PORT (gRPC), several comma-separated, or zk://HOST:PORT/PATH' },
  zk: { type: 'string', required: true, help: "where this framework keeps its state and elects its leader: zk://HOST:PORT/PATH (e.g. zk://127.0.0.1:2181/mesos-ts-apps)" },
  http_port: { type: 'number', default: 8080, help: 'port of the REST API (0: any free port)' },
  http_address: { type: 'string', default: '0.0.0.0', help: 'address the REST API listens on' },
  hostname: { type: 'string', help: 'the host other instances redirect to (default: this machine\'s hostname)' },
  webui_url: { type: 'string', help: "the apps page's address, which the master's UI links to (FrameworkInfo webui_url; default http://HOSTNAME:HTTP_PORT/ui/, from --hostname)" },
  framework_name: { type: 'string', default: 'mesos-ts-apps', help: 'the FrameworkInfo name' },
  role: { type: 'string', default: '*', help: 'the role to subscribe with' },
  failover_timeout: { type: 'duration', default: 604800, help: 'how long the master keeps the tasks while no instance of this framework is connected (default one week)' },
  decline_offer_duration: { type: 'duration', default: 120, help: 'refuse filter of declined offers (Marathon: 120 s); a new launch REVIVEs at once' },
  reconciliation_timeout: { type: 'duration', default: 10, help: 'how long to wait for the answers of an explicit reconciliation' },
  check_interval: { type: 'duration', default: 1, help: 'how often every app is checked against its definition (changes also trigger a check)' },
  task_launch_timeout: { type: 'duration', default: 300, help: 'an instance not RUNNING this long after its launch is killed and replaced (Marathon: 300 s)' },
  default_image: { type: 'string', default: 'mesos-ts/busybox:latest', help: 'the Docker image of apps that name no container' },
  zk_session_timeout: { type: 'duration', default: 10, help: 'ZooKeeper session timeout: a leader cut off this long gives up leadership' },
  ...LB_STATS_FLAG,
  drain_timeout: { type: 'duration', default: 30, help: 'longest an instance to be killed waits for the --lb_stats pages to show its servers drained' },
  drain_wait: { type: 'duration', default: 2, help: 'with no --lb_stats, how long an instance to be killed is shown draining (TASK_KILLING) before its KILL, for event-driven balancers' },
  ...API_AUTHENTICATION_FLAGS,
  // The credential this framework presents to the master.
  ...CLIENT_CREDENTIAL_FLAGS,
  // TLS both ways, as every component: the REST API speaks https, and the master is reached over TLS.
  ...TLS_FLAGS,
} as const;

const SUMMARY = 'Runs the apps framework: long-running services with Marathon\'s REST API, highly available through ZooKeeper.';

export async function appsCommand(argv: string[]): Promise<number | void> {
  const flags = parseFlags(APPS_FLAGS, argv, { env: process.env });
  if (flags.help) {
    process.stdout.write(usage('apps', SUMMARY, APPS_FLAGS) + '\n');
    return 0;
  }
  if (flags._.length > 0) throw new InvalidArgument(`unexpected argument '${flags._[0]}'`);
  checkMasterFlag(flags.master, { several: true });
  parseZkUrl(flags.zk);
  parseLbStats(flags.lb_stats);
  if (!Number.isInteger(flags.http_port) || flags.http_port < 0 || flags.http_port > 65535) throw new InvalidArgument(`--http_port must be 0..65535, got ${flags.http_port}`);
  if (flags.webui_url !== undefined && !/^https?:\/\/[^/\s]+/.test(flags.webui_url)) throw new InvalidArgument(`--webui_url must be an http:// or https:// URL, got '${flags.webui_url}'`);
  const log = createLogger({ component: 'apps', format: 'text' });
  // Checked before anything starts: bad credentials or TLS files change nothing.
  const authentication = apiAuthentication(flags, process.env, log.child({ component: 'authentication' }));
  const tls = tlsConfig(withTlsEnvironment(flags, process.env), 'server');
  const apps = new AppsProcess(flags, log, authentication, tls);
  await apps.listen();
  // Loaded before the ZooKeeper session starts: loading the .proto files blocks for a while, which the
  // session's stall check would take for a frozen process once we lead.
  const { Scheduler } = await import('../sdk/scheduler.js');
  await apps.contend((options) => new Scheduler(options));
  process.once('SIGTERM', () => void apps.exit(0, 'SIGTERM'));
  process.once('SIGINT', () => void apps.exit(0, 'SIGINT'));
  await new Promise(() => {});
}

type AppsFlags = Flags<typeof APPS_FLAGS>;
type SchedulerFactory = (options: SchedulerOptions) => Scheduler;

/** Leadership in the process's lifetime: standby, then (once elected) leading until it ends. */
interface Leading {
  readonly state: AppsState;
  readonly runtime: AppsRuntime;
  readonly scheduler: Scheduler;
  autoscaler: AutoscaleLoop | null;
  /** Set once subscribed and reconciled: the API acts only then. */
  ops: AppsOperations | null;
}

/** One `mesos-ts apps` process: the REST API, its candidacy, and the framework while it leads. */
class AppsProcess {
  private readonly events = new EventBus();
  private readonly host: string;
  private server: HttpListener | null = null;
  private port = 0;
  private contender: MasterContender | null = null;
  private leading: Leading | null = null;
  private closing = false;

  constructor(private readonly flags: AppsFlags, private readonly log: Logger, private readonly authentication: ApiAuthentication | null, private readonly tls: Tls | null) {
    this.host = flags.hostname ?? osHostname();
  }

  async listen(): Promise<void> {
    const handler = appsHttpHandler({
      leader: () => this.leaderAddress(),
      operations: () => this.leading?.ops ?? null,
      events: this.events,
      info: () => this.info(),
      metrics: () => metricsText(this.leading?.state ?? null, this.leading !== null, this.events.size) + (this.leading?.autoscaler?.metricsText() ?? ''),
      autoscale: () => this.leading?.autoscaler ?? null,
      authentication: this.authentication,
      scheme: this.tls ? 'https' : 'http',
    });
    const warn = (fields: Record<string, unknown>, message: string) => this.log.warn(fields, message);
    this.server = await listenHttp(this.flags.http_address, this.flags.http_port, this.tls, handler, warn);
    this.port = this.server.port;
    const guarded = this.authentication ? ` (HTTP basic authentication, realm "${this.authentication.realm}")` : '';
    this.log.info(`apps: REST API on ${this.server.scheme}://${this.host}:${this.port}${guarded}`);
  }

  /** Enters the election; when elected, takes over with a Scheduler from `newScheduler`. */
  async contend(newScheduler: SchedulerFactory): Promise<void> {
    const zk = parseZkUrl(this.flags.zk);
    const session = await ZkSession.connect({ servers: zk.servers, sessionTimeoutMs: this.flags.zk_session_timeout * 1000, endOnStall: true, ...(zk.auth && { auth: zk.auth }) });
    // The same znode form as masters' (MasterInfo JSON), so one detector serves both; this process has no gRPC address.
    const address = `${this.host}:${this.port}`;
    const info = { id: randomUUID(), hostname: this.host, address: { ip: this.host, hostname: this.host, port: this.port }, grpc_address: address };
    const contender = (this.contender = new MasterContender(session, zk.path, info, this.log));
    const store = new ZkAppsStore(session, zk.path, () => contender.candidacy);
    let elected = false;
    contender.onChange((l) => {
      if (l.leading && !elected) {
        elected = true;
        void this.takeOver(store, newScheduler).catch((err: unknown) => this.exit(1, `could not take over: ${errorMessage(err)}`));
      } else if (!l.leading && (elected || l.why)) void this.exit(1, `lost leadership${l.why ? `: ${l.why}` : ''}`);
      else if (!l.leading) this.log.info(`apps: standing by; the leader is ${l.leader?.http ?? 'not known yet'}`);
    });
    await contender.contend();
  }

  /** Stops without tearing the framework down: the tasks run on, for the next leader. */
  async exit(code: number, why: string): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.log[code === 0 ? 'info' : 'error'](`apps: stopping: ${why}`);
    this.leading?.runtime.stop();
    this.leading?.autoscaler?.stop();
    await this.leading?.scheduler.close().catch(() => {});
    this.contender?.withdraw();
    await this.server?.close();
    process.exit(code);
  }

  /** Elected: state from ZooKeeper, SUBSCRIBE with the stored FrameworkID, reconcile, then serve. */
  private async takeOver(store: ZkAppsStore, newScheduler: SchedulerFactory): Promise<void> {
    const { flags, log } = this;
    log.info(`apps: elected leader (${this.contender?.candidacy})`);
    const loaded = await store.load();
    const state = new AppsState();
    for (const a of loaded.apps) state.apps.set(a.id, a);
    for (const i of loaded.instances) state.instances.set(i.taskId, i);
    for (const d of loaded.deployments) state.deployments.set(d.id, d);
    const credential = clientCredential(flags);
    // To a master that speaks TLS (LIBPROCESS_SSL_* or --ssl_*), as every other client of it.
    const tls = clientTls(flags, process.env);
    const scheduler = newScheduler({
      master: flags.master,
      framework: {
        name: flags.framework_name, roles: flags.role === '*' ? [] : [flags.role], failoverTimeoutSeconds: flags.failover_timeout,
        capabilities: ['TASK_KILLING_STATE', 'PARTITION_AWARE'], hostname: this.host, webuiUrl: flags.webui_url ?? `${this.tls ? 'https' : 'http'}://${this.host}:${this.port}/ui/`, checkpoint: true,
        ...(loaded.frameworkId && { id: loaded.frameworkId }),
      },
      // The runtime acknowledges each update once it has handled and stored it.
      autoAcknowledge: false,
      logger: { debug: () => {}, info: (m) => log.info(m), warn: (m) => log.warn(m) },
      reconnect: { maxAttempts: Number.MAX_SAFE_INTEGER },
      ...(credential && { credential }),
      tls,
    });
    scheduler.on('removed', (e) => void this.exit(1, `the master removed this framework: ${e.message}`));
    scheduler.on('closed', (e) => { if (e.reason) void this.exit(1, `the scheduler stopped: ${e.reason.message}`); });
    const runtime = new AppsRuntime(state, scheduler, store, this.events, systemClock, log, {
      declineRefuseSeconds: flags.decline_offer_duration,
      defaultImage: flags.default_image,
      reconcileTimeoutMs: flags.reconciliation_timeout * 1000,
      tickMs: flags.check_interval * 1000,
      taskLaunchTimeoutSeconds: flags.task_launch_timeout,
      drain: { lbStats: parseLbStats(flags.lb_stats), timeoutSeconds: flags.drain_timeout, waitSeconds: flags.drain_wait, pollMs: 250 },
    });
    const leading: Leading = (this.leading = { state, runtime, scheduler, ops: null, autoscaler: null });
    const subscribed = await scheduler.start();
    log.info(`apps: subscribed as framework ${subscribed.frameworkId} (${state.apps.size} app(s), ${state.instances.size} instance(s) stored)`);
    // Through the runtime's queue, as its own save on 'subscribed': two creates at once failed with NODE_EXISTS.
    await runtime.serial(() => store.saveFrameworkId(subscribed.frameworkId));
    await runtime.reconcileThenRun();
    const ops = (leading.ops = new AppsOperations(state, runtime, store, this.events));
    leading.autoscaler = new AutoscaleLoop({
      state, events: this.events, clock: systemClock, log,
      scale: (appId, instances) => ops.updateApp(appId, { instances }, { partial: true, force: false }),
      sources: { cpu: new AgentCpuUsage(), requestsPerSecond: new LoadBalancerRequestRate(parseLbStats(flags.lb_stats)) },
    });
    leading.autoscaler.start();
    log.info('apps: leading and ready');
  }

  private leaderAddress(): { address: string; self: boolean } | null {
    if (this.leading) return { address: `${this.host}:${this.port}`, self: true };
    const l = this.contender?.leadership;
    return l && !l.leading && l.leader ? { address: l.leader.http, self: false } : null;
  }

  private info(): Record<string, unknown> {
    const { flags } = this;
    return {
      name: 'mesos-ts-apps', version: '0.1.0', elected: this.leading !== null, leader: this.leaderAddress()?.address ?? null,
      frameworkId: this.leading?.scheduler.frameworkId ?? null,
      http_config: { http_port: this.port }, zookeeper_config: { zk: redactText(flags.zk) },
      marathon_config: {
        master: redactText(flags.master), framework_name: flags.framework_name, failover_timeout: flags.failover_timeout, mesos_role: flags.role,
        decline_offer_duration: flags.decline_offer_duration * 1000, task_launch_timeout: flags.task_launch_timeout * 1000,
      },
    };
  }
}

function metricsText(state: AppsState | null, leader: boolean, subscribers: number): string {
  const lines = [
    '# HELP mesos_ts_apps_leader 1 when this instance leads.', '# TYPE mesos_ts_apps_leader gauge', `mesos_ts_apps_leader ${leader ? 1 : 0}`,
    '# TYPE mesos_ts_apps_event_subscribers gauge', `mesos_ts_apps_event_subscribers ${subscribers}`,
  ];
  if (state) {
    const running = [...state.instances.values()].filter((i) => i.state === 'TASK_RUNNING').length;
    lines.push(
      '# TYPE mesos_ts_apps_apps gauge', `mesos_ts_apps_apps ${state.apps.size}`,
      '# TYPE mesos_ts_apps_instances gauge', `mesos_ts_apps_instances ${state.instances.size}`,
      '# TYPE mesos_ts_apps_instances_running gauge', `mesos_ts_apps_instances_running ${running}`,
      '# TYPE mesos_ts_apps_deployments gauge', `mesos_ts_apps_deployments ${state.deployments.size}`,
    );
  }
  return lines.join('\n') + '\n';
}

