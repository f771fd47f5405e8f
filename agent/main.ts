// Starting an agent: flags -> checked config -> container drivers (--containerizers) -> Agent + HTTP.
// `startAgent` runs one in-process (tests, `mesos-ts local`); `mesos-ts
// agent` is agent/command.ts, which imports this file only to start one.
import { messageSizeOptions } from '../common/grpc-limits.js';
import { parseCredential } from '../common/credentials.js';
import { hostname as osHostname } from 'node:os';
import { isAbsolute, normalize, resolve } from 'node:path';
import { isUserSpec, parseCapabilities, type IsolationPolicy } from './isolation.js';
import { mkdirSync } from 'node:fs';
import { checkMasterFlag, parseZkUrl } from '../common/zk/url.js';
import { redactText } from '../common/log/redact.js';
import { ZkSession } from '../common/zk/session.js';
import { LeaderFollower } from '../common/zk/leader-follower.js';
import { parseFlags, type Flags } from '../common/flags.js';
import { InvalidArgument, errorMessage } from '../common/errors.js';
import { checkAdvertised } from '../common/mesos-flags.js';
import { parseDomain, type DomainInfo } from '../common/domain.js';
import { Resources } from '../common/resources.js';
import { systemClock } from '../common/clock.js';
import type { AttributeIn } from '../proto/index.js';
import { AGENT_FLAGS, AGENT_PARSE } from './flags.js';
import { Agent, type RecoverMode } from './agent.js';
import type { PullPolicy } from './driver/docker.js';
import { createContainerizers, parseContainerizers, type ContainerizerName } from './driver/containerizers.js';
import { detectResources } from './detect.js';
import { parseAttributes } from './attributes.js';
import { startAgentHttp } from './http.js';
import { AgentHttpSecurity } from './http-security.js';
import { createLogger, type Logger } from '../common/log/logger.js';
import { loggerOptions } from '../common/log/flags.js';
import { tlsConfig, UNVERIFIED_WARNING, type Tls } from '../common/tls.js';

export type AgentFlags = Flags<typeof AGENT_FLAGS>;

/** startAgent's options: the flags by their names, plus where the formatted log lines go instead of stderr (silenced by --quiet). */
export type AgentStartOptions = Partial<Omit<AgentFlags, 'help' | '_'>> & {
  readonly master: string;
  readonly log?: (line: string) => void;
};

export interface RunningAgent {
  readonly agent: Agent;
  /** ip:port of the HTTP endpoint (the real port when --port=0). */
  readonly httpAddress: string;
  readonly workDir: string;
  /** null until the master registered the agent. */
  agentId(): string | null;
  /** Settles (with the master's reason) once the master shut this agent down and its tasks are gone: the process should exit. */
  readonly shutdown: Promise<string>;
  /** Leaves the master. killTasks (default true) kills the tasks and removes their containers. */
  stop(options?: { killTasks?: boolean }): Promise<void>;
}

interface AgentConfig {
  readonly flags: AgentFlags;
  readonly workDir: string;
  readonly logMaxBytes: number;
  readonly isolation: IsolationPolicy;
  readonly resources: Resources;
  readonly attributes: AttributeIn[];
  readonly domain: DomainInfo | null;
  /** Null when TLS is off. */
  readonly tls: Tls | null;
  readonly containerizers: readonly ContainerizerName[];
}

/** Checks the flags once, at the edge; every message names the flag and the value. */
export function agentConfig(flags: AgentFlags): AgentConfig {
  checkMasterFlag(flags.master);
  if (flags.docker_pull !== 'missing' && flags.docker_pull !== 'never') {
    throw new InvalidArgument(`--docker_pull must be 'missing' or 'never', got '${flags.docker_pull}'`);
  }
  if (!Number.isInteger(flags.port) || flags.port < 0 || flags.port > 65535) throw new InvalidArgument(`--port must be 0..65535, got ${flags.port}`);
  if (!Number.isInteger(flags.pids_limit) || flags.pids_limit < 1) throw new InvalidArgument(`--pids_limit must be a positive integer, got ${flags.pids_limit}`);
  if (!(flags.status_update_retry_interval > 0)) {
    throw new InvalidArgument(`--status_update_retry_interval must be > 0, got ${flags.status_update_retry_interval}`);
  }
  if (flags.recover !== 'reconnect' && flags.recover !== 'cleanup') {
    throw new InvalidArgument(`--recover must be 'reconnect' or 'cleanup', got '${flags.recover}'`);
  }
  if (!(flags.docker_pull_timeout > 0)) throw new InvalidArgument(`--docker_pull_timeout must be > 0, got ${flags.docker_pull_timeout}`);
  const logMaxBytes = parseSize(flags.sandbox_log_max_size, 'sandbox_log_max_size');
  if (!Number.isInteger(flags.sandbox_log_rotations) || flags.sandbox_log_rotations < 0) {
    throw new InvalidArgument(`--sandbox_log_rotations must be a whole number >= 0, got ${flags.sandbox_log_rotations}`);
  }
  if (flags.oci_launch_parallelism !== undefined && (!Number.isInteger(flags.oci_launch_parallelism) || flags.oci_launch_parallelism < 1)) {
    throw new InvalidArgument(`--oci_launch_parallelism must be a positive integer, got ${flags.oci_launch_parallelism}`);
  }
  if (!(flags.gc_delay >= 0)) throw new InvalidArgument(`--gc_delay must not be negative, got ${flags.gc_delay}`);
  const allowedHostPaths = flags.allowed_host_paths.split(',').map((p) => p.trim()).filter((p) => p !== '');
  const relative = allowedHostPaths.find((p) => !isAbsolute(p));
  if (relative !== undefined) throw new InvalidArgument(`--allowed_host_paths must list absolute paths, got '${relative}'`);
  if (!isUserSpec(flags.default_container_user.trim())) {
    throw new InvalidArgument(`--default_container_user must be a user name or uid, optionally ':group' (e.g. nobody, 1000:1000), got '${flags.default_container_user}'`);
  }
  let capabilities: string[];
  try {
    capabilities = parseCapabilities(flags.effective_capabilities);
  } catch (err) {
    throw new InvalidArgument(errorMessage(err));
  }
  checkAdvertised(flags);
  const containerizers = parseContainerizers(flags.containerizers);
  const domain = flags.domain !== undefined ? parseDomain(flags.domain) : null;
  const workDir = resolve(flags.work_dir);
  // The command read LIBPROCESS_SSL_* into the flags (withTlsEnvironment); library callers pass flags.
  const tls = tlsConfig(flags, 'server');
  const given = flags.resources !== undefined ? parseResourcesFlag(flags.resources) : Resources.EMPTY;
  if (given.scalar('cpus') < 0 || given.scalar('mem') < 0) throw new InvalidArgument(`--resources must not be negative, got '${flags.resources}'`);
  return { flags, workDir, logMaxBytes, isolation: {
    allowedHostPaths: allowedHostPaths.map((p) => normalize(p)), allowPrivileged: flags.allow_privileged,
    switchUser: flags.switch_user, defaultUser: flags.default_container_user.trim(), allowRoot: flags.allow_root_tasks, capabilities,
  }, resources: withDetected(given, workDir), attributes: parseAttributes(flags.attributes), domain, tls, containerizers };
}

/** --resources as Mesos takes it: text (cpus:2;mem:1024) or a JSON array of Resource messages (inline or file://). */
export function parseResourcesFlag(text: string): Resources {
  if (!text.trimStart().startsWith('[')) return Resources.parse(text);
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgument(`--resources: not JSON (${(err as Error).message})`, { cause: err });
  }
  if (!Array.isArray(list)) throw new InvalidArgument('--resources: JSON resources must be an array of Resource objects');
  return Resources.fromProto(list as Parameters<typeof Resources.fromProto>[0], '--resources');
}

const SIZE_UNITS: Record<string, number> = { '': 1, B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };

/** '10MB' -> bytes, as Mesos writes sizes. */
export function parseSize(text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMG]?B)?\s*$/i.exec(text);
  const unit = SIZE_UNITS[(m?.[2] ?? '').toUpperCase()];
  if (!m || unit === undefined) throw new InvalidArgument(`--${flag}: '${text}' is not a size (e.g. 512KB, 10MB, 1GB)`);
  return Math.round(Number(m[1]) * unit);
}

/** As Mesos does: cpus, mem, disk and ports that --resources leaves out are detected. */
function withDetected(given: Resources, workDir: string): Resources {
  const missing = ['cpus', 'mem', 'disk', 'ports'].filter((name) => !given.names().includes(name));
  if (missing.length === 0) return given;
  return given.add(detectResources(workDir).filter((e) => missing.includes(e.name)));
}

export async function startAgent(options: string[] | AgentStartOptions): Promise<RunningAgent> {
  const flags: AgentFlags = Array.isArray(options)
    ? parseFlags(AGENT_FLAGS, options, AGENT_PARSE)
    : { ...parseFlags(AGENT_FLAGS, ['--master', options.master]), ...withoutUndefined(options) };
  const sink = Array.isArray(options) ? undefined : options.log;
  const config = agentConfig(flags);
  const logger = createLogger(loggerOptions(flags, 'agent', sink));
  if (config.tls && !config.tls.verifyServerCert) logger.warn(UNVERIFIED_WARNING);
  const security = AgentHttpSecurity.fromFlags(flags, logger);
  mkdirSync(config.workDir, { recursive: true });
  const driver = await createContainerizers({
    containerizers: config.containerizers, workDir: config.workDir, hostname: osHostname(), log: (line) => logger.info(line),
    logRotation: { maxBytes: config.logMaxBytes, keep: flags.sandbox_log_rotations },
    docker: { socketPath: flags.docker_socket, pull: flags.docker_pull as PullPolicy, pullTimeoutSeconds: flags.docker_pull_timeout },
    oci: { runtime: flags.oci_runtime, registry: resolve(flags.docker_registry), storeDir: resolve(flags.docker_store_dir ?? `${config.workDir}/store/docker`), rootPool: flags.oci_root_pool, seccompProfile: flags.seccomp_profile_name,
      ...(flags.oci_launch_parallelism !== undefined ? { launchParallelism: flags.oci_launch_parallelism } : {}),
      ...(flags.seccomp_config_dir !== undefined ? { seccompConfigDir: resolve(flags.seccomp_config_dir) } : {}), capabilities: config.isolation.capabilities },
  });
  messageSizeOptions(flags.max_grpc_message_size); // Refuses a bad --max_grpc_message_size before anything starts.
  const follow = flags.master.startsWith('zk://') ? await followLeader(flags.master, logger) : null;
  let httpPort = flags.port;
  let resolveShutdown: (why: string) => void = () => {};
  const shutdown = new Promise<string>((resolve) => (resolveShutdown = resolve));
  const agent = new Agent({
    ...(follow ? { leader: () => follow.detector.current()?.grpc ?? null } : {}),
    // What the master hands out for this agent (pid, Offer.url): the advertised address, as with Mesos's libprocess.
    ...(flags.credential !== undefined ? { credential: parseCredential(flags.credential) } : {}),
    tls: config.tls, maxMessageSize: flags.max_grpc_message_size,
    master: flags.master, hostname: flags.hostname ?? (flags.hostname_lookup ? osHostname() : (flags.advertise_ip ?? flags.ip)), ip: flags.advertise_ip ?? flags.ip,
    httpPort: () => flags.advertise_port ?? httpPort, workDir: config.workDir,
    resources: config.resources, attributes: config.attributes, ...(config.domain ? { domain: config.domain } : {}), driver, defaultImage: flags.docker_default_image,
    pidsLimit: flags.pids_limit, killGraceSeconds: flags.kill_grace_period, statusUpdateRetrySeconds: flags.status_update_retry_interval,
    recover: flags.recover as RecoverMode, gcDelaySeconds: flags.gc_delay, isolation: config.isolation,
    clock: systemClock, logger,
    onShutdown: (why) => resolveShutdown(why),
  });
  follow?.detector.onChange((leader) => {
    if (leader) agent.logger.info({ master: leader.grpc }, `the leading master is now ${leader.grpc}`);
    else agent.logger.warn('no leading master is known');
    agent.leaderChanged();
  });
  const http = await startAgentHttp(agent, flags.ip, flags.port, flags, config.tls, security);
  httpPort = http.port;
  try {
    await agent.start();
  } catch (err) {
    await agent.stop(false);
    await driver.close();
    await http.close();
    throw err;
  }
  agent.logger.info(`offering ${config.resources.toString()} to the master at ${redactText(flags.master)}; HTTP on ${http.scheme}://${flags.ip}:${http.port}${config.tls ? `; TLS${config.tls.requireClientCert ? ', client certificates required' : ''}` : ''}`);
  return {
    agent,
    httpAddress: `${flags.ip}:${http.port}`,
    workDir: config.workDir,
    agentId: () => agent.id,
    shutdown,
    async stop(stopOptions = {}) {
      follow?.detector.stop();
      await agent.stop(stopOptions.killTasks ?? true);
      await driver.close();
      await http.close();
    },
  };
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** `--master zk://...`: find the leading master in ZooKeeper and follow it, on a new session whenever one ends. */
async function followLeader(url: string, agentLogger: Logger): Promise<{ detector: LeaderFollower }> {
  const { servers, path, auth } = parseZkUrl(url);
  const logger = agentLogger.child({ component: 'election' });
  const detector = new LeaderFollower(() => ZkSession.connect({ servers, sessionTimeoutMs: 10_000, ...(auth ? { auth } : {}) }), path, (line) => logger.warn(line));
  const leader = await detector.start();
  logger.info(leader ? `leading master is ${leader.grpc}` : `no leading master in ${redactText(url)} yet; waiting`);
  return { detector };
}
