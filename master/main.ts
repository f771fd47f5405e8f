// Starting a master: flags -> allocator -> Master -> gRPC + HTTP servers.
import { hostname as osHostname } from 'node:os';
import * as grpc from '@grpc/grpc-js';
import { grpcObject } from '../proto/index.js';
import { warmUpMasterCodecs } from '../proto/warm-up.js';
import { parseFlags, type Flags } from '../common/flags.js';
import { errorMessage, InvalidArgument, Unavailable } from '../common/errors.js';
import { connectElection, type Election } from './election/election.js';
import { InMemoryStore, Registry } from './registry/registry.js';
import { FileRegistryStore } from './registry/file-store.js';
import { join } from 'node:path';
import { systemClock } from '../common/clock.js';
import { newMasterId } from '../common/ids.js';
import { type AllocatorOptions } from './allocator/index.js';
import { loadAllocator } from './allocator/loader.js';
import { parseMinAllocatable, parseQuota, parseWeights } from './allocator/flags.js';
import { Master } from './master.js';
import { MASTER_FLAGS, MASTER_PARSE } from './flags.js';
import { schedulerService } from './rpc/scheduler-service.js';
import { withCallRequestDecoding } from './rpc/call-stream.js';
import { agentLinkService } from './rpc/agent-link-service.js';
import { withEncodedResponses, withSafeDecoding } from './rpc/safe-service.js';
import { decodeAgentMessage } from './rpc/status-presence.js';
import { startMasterHttp, type HttpHandler } from './http.js';
import { schedulerHttpApi } from './http-api/scheduler-endpoint.js';
import { StateSnapshot } from './v0/snapshot.js';
import { v0Routes } from './v0/routes.js';
import { flagsJson } from './v0/flags-json.js';
import { authenticatedPrincipal, MasterAuthentication } from './authentication.js';
import { endpointAuthorization, loadAcls, MASTER_ACTIONS, v0ViewFilter } from './authorization.js';
import { refusal } from '../common/acls.js';
import { buildInfo } from './v0/build-info.js';
import { MasterMetrics } from './metrics.js';
import { OperatorApi } from './operator/operator-api.js';
import { operatorService } from './operator/grpc-service.js';
import { operatorHttpApi } from './operator/http.js';
import { v0WriteEndpoints } from './operator/v0-writes.js';
import { agentHttpOf, webUi } from './webui/web-ui.js';
import { serveMetrics } from '../common/metrics.js';
import { createLogger } from '../common/log/logger.js';
import { loggerOptions } from '../common/log/flags.js';
import { keepaliveOptions } from '../common/grpc-keepalive.js';
import { messageSizeOptions } from '../common/grpc-limits.js';

export { VERSION } from '../common/version.js';
import { VERSION } from '../common/version.js';
import { checkAdvertised } from '../common/mesos-flags.js';
import { parseDomain } from '../common/domain.js';
import { httpScheme, tlsConfig, UNVERIFIED_WARNING, type Tls } from '../common/tls.js';
import { tlsFetch } from '../common/tls-fetch.js';
import { listenGrpcTls, type TlsListener } from '../common/tls-listener.js';
import type { Logger } from '../common/log/logger.js';

export type MasterFlags = Flags<typeof MASTER_FLAGS>;

export interface RunningMaster {
  readonly master: Master;
  readonly grpcAddress: string;
  readonly httpAddress: string;
  /** 'https' when the master speaks TLS (--ssl_enabled, LIBPROCESS_SSL_ENABLED). */
  readonly scheme: 'http' | 'https';
  /** True while this master leads (always, without --zk). */
  leading(): boolean;
  stop(): Promise<void>;
}

/** Mesos encodes MasterInfo.ip as the IPv4 address in network byte order read as a host (little-endian) integer. */
export function packIp(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return 0;
  return (((parts[3]! << 24) >>> 0) + (parts[2]! << 16) + (parts[1]! << 8) + parts[0]!) >>> 0;
}

/** --weights, --quota and --min_allocatable_resources as the allocator takes them; throws InvalidArgument naming the flag. */
export function allocatorOptions(flags: Pick<MasterFlags, 'weights' | 'quota' | 'min_allocatable_resources'>): AllocatorOptions {
  return {
    ...(flags.weights ? { weights: parseWeights(flags.weights) } : {}),
    ...(flags.quota ? { quotas: parseQuota(flags.quota) } : {}),
    ...(flags.min_allocatable_resources ? { minAllocatable: parseMinAllocatable(flags.min_allocatable_resources) } : {}),
  };
}

/**
 * Starts a master. `sink`, when given, takes the formatted log lines instead
 * of stderr (tests, `mesos-ts local`); --quiet silences it too.
 */
export async function startMaster(
  argv: string[] | Partial<MasterFlags>,
  sink?: (line: string) => void,
  onDeposed?: (why: string) => void,
): Promise<RunningMaster> {
  const flags = Array.isArray(argv) ? parseFlags(MASTER_FLAGS, argv, MASTER_PARSE) : { ...parseFlags(MASTER_FLAGS, []), ...argv };
  const logger = createLogger(loggerOptions(flags, 'master', sink));
  if (flags.allocation_interval <= 0) throw new InvalidArgument(`--allocation_interval must be positive, got ${flags.allocation_interval}`);
  if (!(flags.allocation_pass_budget >= 0)) throw new InvalidArgument(`--allocation_pass_budget must be 0 (no bound) or positive, got ${flags.allocation_pass_budget}`);
  checkAdvertised(flags);
  const domain = flags.domain !== undefined ? parseDomain(flags.domain) : null;
  if (flags.heartbeat_interval <= 0) throw new InvalidArgument(`--heartbeat_interval must be positive, got ${flags.heartbeat_interval}`);
  const allocation = allocatorOptions(flags);
  const authn = MasterAuthentication.fromFlags(flags, logger.child({ component: 'authentication' }));
  // The command read LIBPROCESS_SSL_* into the flags (withTlsEnvironment); library callers pass flags.
  const tls = tlsConfig(flags, 'server');
  // The master is a client too: its web UI proxy dials agents.
  if (tls && !tls.verifyServerCert) logger.warn(UNVERIFIED_WARNING);
  const authzLogger = logger.child({ component: 'authorization' });
  const acls = loadAcls(flags.acls, MASTER_ACTIONS, authzLogger, 'master');
  const allocator = await loadAllocator(flags.allocator, allocation);
  const id = newMasterId();
  // gRPC may listen elsewhere than HTTP (--grpc_ip): the operator can keep HTTP, with the operator API, on loopback.
  const grpcIp = flags.grpc_ip ?? flags.ip;
  const keepalive = keepaliveOptions({ intervalSeconds: flags.grpc_keepalive_interval, timeoutSeconds: flags.grpc_keepalive_timeout }, '--grpc_keepalive');
  if (!(Number.isInteger(flags.max_framework_event_queue) && flags.max_framework_event_queue > 0)) {
    throw new InvalidArgument(`--max_framework_event_queue must be a positive integer, got ${flags.max_framework_event_queue}`);
  }
  if (!(Number.isInteger(flags.max_framework_event_queue_bytes) && flags.max_framework_event_queue_bytes > 0)) {
    throw new InvalidArgument(`--max_framework_event_queue_bytes must be a positive integer, got ${flags.max_framework_event_queue_bytes}`);
  }
  // Before any scheduler can subscribe: the first OFFERS encode would otherwise generate its code (proto/warm-up.ts).
  warmUpMasterCodecs();
  const server = new grpc.Server({ ...messageSizeOptions(flags.max_grpc_message_size), ...keepalive });
  const grpcListener = await bindGrpc(server, grpcIp, flags.grpc_port, tls, logger.child({ component: 'grpc' }));
  const grpcPort = grpcListener.port;
  // What this master hands out (MasterInfo, pid, ZooKeeper): the advertised address, as Mesos's libprocess does.
  const advertisedIp = flags.advertise_ip ?? flags.ip;
  const hostname = flags.hostname ?? (flags.hostname_lookup ? osHostname() : advertisedIp);
  let snapshot: StateSnapshot | null = null;
  let election: Election | null = null;
  // HTTP route modules are registered below, once the master exists.
  // Credentials are checked before any route sees a request.
  const httpHandlers: HttpHandler[] = [authn.httpHandler(), endpointAuthorization(acls, authzLogger)];
  // A port in use must not leave the gRPC server bound: the caller (mesos-ts local, a test) could not exit.
  const http = await startMasterHttp({ ip: flags.ip, port: flags.port, tls, handlers: httpHandlers, logger: logger.child({ component: 'http' }) }).catch(async (err: unknown) => {
    server.forceShutdown();
    await grpcListener.close();
    throw err;
  });
  const advertisedPort = flags.advertise_port ?? http.port;
  const info = {
    id, ip: packIp(advertisedIp), port: advertisedPort, pid: `master@${advertisedIp}:${advertisedPort}`, hostname, version: VERSION,
    address: { hostname, ip: advertisedIp, port: advertisedPort },
    ...(domain ? { domain } : {}),
  };
  const grpcAddress = `${grpcIp}:${grpcPort}`;
  // registry_log: this master logs its registry changes, so a standby may follow them (master/registry/zk-log.ts).
  const candidate = { ...info, grpc_address: `${flags.advertise_ip ?? grpcIp}:${grpcPort}`, registry_log: true };
  if (flags.zk) {
    election = await connectElection(flags.zk, flags.zk_session_timeout, candidate, logger.child({ component: 'election' })).catch(async (err: unknown) => {
      server.forceShutdown();
      await grpcListener.close();
      await http.close();
      throw err;
    });
  }
  let over = false;
  // No two leaders may act: a master that lost leadership (or can no longer
  // write its registry) stops for good.
  const stopActing = (why: string) => {
    if (over) return;
    over = true;
    logger.warn(`no longer leading (${why}); this master stops acting`);
    master.stop();
    election?.withdraw();
    onDeposed?.(why);
  };
  const registryLogger = logger.child({ component: 'registry' });
  const zkStore = election?.registryStore(registryLogger) ?? null;
  const store = zkStore ?? (flags.work_dir ? new FileRegistryStore(join(flags.work_dir, 'registry.json')) : new InMemoryStore());
  const registry = new Registry(store, (err) => stopActing(err.message), registryLogger);
  const v0Flags = flagsJson(MASTER_FLAGS, flags);
  const master = new Master({
    id, info, allocator, registry, clock: systemClock, allocationInterval: flags.allocation_interval, allocationPassBudget: flags.allocation_pass_budget, offerTimeout: flags.offer_timeout,
    heartbeatInterval: flags.heartbeat_interval, agentReregisterTimeout: flags.agent_reregister_timeout,
    agentPingInterval: flags.agent_ping_timeout, maxAgentPingTimeouts: flags.max_agent_ping_timeouts, maxFrameworkEventQueue: flags.max_framework_event_queue, maxFrameworkEventQueueBytes: flags.max_framework_event_queue_bytes, agentDisconnectTimeout: flags.agent_ping_timeout * flags.max_agent_ping_timeouts,
    registryMaxAgentAge: flags.registry_max_agent_age, logger,
    ...(allocation.weights ? { weights: allocation.weights } : {}), ...(allocation.quotas ? { quotas: allocation.quotas } : {}),
    // GET_FLAGS and /master/flags: the same strings, as Mesos writes them (credentials left out).
    flags: v0Flags,
    agentScheme: httpScheme(tls),
    acls,
  });
  const build = buildInfo();
  let electedTime: number | null = null;
  snapshot = new StateSnapshot(master, { flags: v0Flags, electedTime: () => electedTime, build });
  const leader = () => {
    if (election && !election.leading()) throw new Unavailable(election.notLeading());
    if (!master.acting) throw new Unavailable(over ? 'this master has stopped' : 'this master is taking over (recovering its registry); retry shortly');
    // mono_ms (CLOCK_MONOTONIC, the same in every process of a machine) orders the calls of several masters even when
    // their wall clocks jump; at_ms is the wall time, for reading.
    if (flags.log_accepted_calls) logger.info({ term: election?.term() ?? 0, at_ms: Math.round(systemClock.now() * 1000), mono_ms: Number(process.hrtime.bigint() / 1_000_000n) }, 'accepted call');
    return master;
  };
  // Set while a just-elected master reads its registry: calls arriving meanwhile wait for it (a few ms).
  let takingOver: Promise<void> | null = null;
  const ready = async () => {
    if (takingOver) await takingOver;
  };
  server.addService(withEncodedResponses(withSafeDecoding(withCallRequestDecoding(grpcObject.mesos_ts.Scheduler.service))), authn.guard(schedulerService(leader, ready), 'Scheduler', authn.policy.frameworks));
  // Metrics on every master (a standby says master/elected 0); the operator API from the leader only.
  const leads = () => (!election || election.leading()) && master.acting;
  const metrics = new MasterMetrics(master, { leading: leads, subscribers: () => operator.subscribers });
  const operator = new OperatorApi({ master, metrics, leading: leads, heartbeatSeconds: flags.heartbeat_interval });
  const operatorApi = () => {
    leader(); // Throws Unavailable naming the leader when this master does not lead.
    return operator;
  };
  if (flags.grpc_operator_api) {
    server.addService(withSafeDecoding(grpcObject.mesos_ts.operator.Operator.service), authn.guard(operatorService(operatorApi), 'Operator', authn.policy.httpReadwrite));
  }
  httpHandlers.push(
    v0Routes({
      snapshot: () => (election && !election.leading() ? null : snapshot), leaderHttp: () => election?.leaderHttp() ?? null, flags: v0Flags, build,
      viewFilter: v0ViewFilter(acls),
    }),
    (req, res, path) => serveMetrics(req, res, path, metrics),
    // /master/redirect names this master as Mesos does: MasterInfo.hostname (default the advertised IP) and the advertised port.
    operatorHttpApi({ api: operatorApi, leaderHttp: () => election?.leaderHttp() ?? null, selfHttp: () => `${hostname}:${advertisedPort}` }),
  );
  httpHandlers.push(v0WriteEndpoints({ api: operatorApi, leaderHttp: () => election?.leaderHttp() ?? null }));
  httpHandlers.push(schedulerHttpApi({ leader, ready, leaderHttp: () => election?.leaderHttp() ?? null }));
  httpHandlers.push(webUi({
    leading: leads, leaderHttp: () => election?.leaderHttp() ?? null, selfHttp: () => `${flags.ip}:${http.port}`, agentHttp: agentHttpOf(master),
    // The proxy to the agents' HTTP: https with our CA and certificate when TLS is on.
    scheme: httpScheme(tls), fetch: tlsFetch(tls),
  }));
  server.addService(withSafeDecoding(grpcObject.mesos_ts.internal.AgentLink.service, decodeAgentMessage), authn.guard(agentLinkService(leader, ready, (stream) => {
    const principal = authenticatedPrincipal(stream);
    const refused = refusal(acls, 'register_agents', principal, null, `register an agent as ${principal === null ? 'no principal' : `principal '${principal}'`}`);
    if (refused !== null) authzLogger.warn({ principal }, refused);
    return refused;
  }), 'AgentLink', authn.policy.agents));
  const where = `gRPC${tls ? ' (TLS)' : ''} on ${grpcAddress}, HTTP on ${http.scheme}://${flags.ip}:${http.port}${tls?.requireClientCert ? ' (client certificates required)' : ''} (allocator ${allocator.name})`;
  const takeOver = async () => {
    try {
      const started = Date.now();
      const recovered = await master.recover();
      if (over) return;
      master.start();
      electedTime = master.now();
      logger.info({ master_id: id, took_ms: Date.now() - started }, `master ${id} leading; ${where}; registry (${registry.store.name}): ${recovered}`);
    } catch (err) {
      stopActing(`registry recovery failed: ${errorMessage(err)}`);
    }
  };
  if (election) {
    await election.contend({
      elected: () => {
        logger.info({ master_id: id }, 'elected leader; recovering the registry');
        takingOver = takeOver().finally(() => (takingOver = null));
      },
      deposed: stopActing,
    });
    if (!election.leading()) {
      logger.info({ master_id: id }, `standing by; ${election.notLeading()}; ${where}`);
      // Once elected, it reads only what changed since (issue 15: a full read of 5,000 agents took 4.4 s).
      zkStore?.follow();
    }
  } else {
    await takeOver();
  }
  return {
    master,
    grpcAddress,
    httpAddress: `${flags.ip}:${http.port}`,
    scheme: http.scheme,
    leading: () => (!election || election.leading()) && master.acting,
    async stop() {
      over = true; // A take-over still reading the registry does not start this master once it is stopped.
      zkStore?.stopFollowing();
      election?.withdraw();
      master.stop();
      metrics.close();
      server.forceShutdown();
      await grpcListener.close();
      await http.close();
    },
  };
}

/**
 * The gRPC port. Without TLS, gRPC binds it; with TLS, we listen, do the
 * handshake (common/tls-listener.ts) and hand gRPC the secured connections,
 * so that plain text and failed handshakes are logged here (grpc-js would
 * say nothing; the client sees UNAVAILABLE).
 */
async function bindGrpc(server: grpc.Server, ip: string, port: number, tls: Tls | null, logger: Logger): Promise<TlsListener> {
  if (!tls) {
    const bound = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${ip}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    return { port: bound, close: async () => {} };
  }
  // TLS is done by then: gRPC speaks HTTP/2 over the secured socket.
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const warn = (fields: Record<string, unknown>, message: string) => logger.warn(fields, message);
  const listener = await listenGrpcTls(ip, port, tls, (socket) => injector.injectConnection(socket), warn).catch((err: unknown) => {
    injector.destroy();
    throw err;
  });
  return {
    port: listener.port,
    close: async () => {
      injector.destroy();
      await listener.close();
    },
  };
}
