// Starting an agent: flags -> resources -> Docker driver -> Agent + HTTP.
import { resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import { parseFlags, usage, type Flags } from '../common/flags.js';
import { InvalidArgument } from '../common/errors.js';
import { Resources } from '../common/resources.js';
import { systemClock } from '../common/clock.js';
import { AGENT_FLAGS } from './flags.js';
import { Agent } from './agent.js';
import { DockerDriver, type PullPolicy } from './driver/docker.js';
import { detectResources, parseAttributes } from './detect.js';
import { startAgentHttp } from './http.js';

export type AgentFlags = Flags<typeof AGENT_FLAGS>;

export interface RunningAgent {
  readonly agent: Agent;
  readonly httpAddress: string;
  agentId(): string | null;
  /** Stops the agent; with killTasks its containers are stopped and removed. */
  stop(options?: { killTasks?: boolean }): Promise<void>;
}

export async function startAgent(
  argv: string[] | (Partial<AgentFlags> & { master: string; log?: (line: string) => void }),
): Promise<RunningAgent> {
  const given = Array.isArray(argv) ? parseFlags(AGENT_FLAGS, argv) : { ...parseFlags(AGENT_FLAGS, ['--master', argv.master]), ...argv };
  const log = (!Array.isArray(argv) && argv.log) || ((line: string) => process.stderr.write(line + '\n'));
  const flags = given as AgentFlags;
  const workDir = resolve(flags.work_dir);
  mkdirSync(workDir, { recursive: true });
  const resources = flags.resources !== undefined ? Resources.parse(flags.resources) : detectResources(workDir);
  if (resources.isEmpty()) throw new InvalidArgument('--resources is empty: an agent must offer something');
  const attributes = parseAttributes(flags.attributes);
  if (flags.docker_pull !== 'missing' && flags.docker_pull !== 'never') {
    throw new InvalidArgument(`--docker_pull must be 'missing' or 'never', got '${flags.docker_pull}'`);
  }
  const driver = new DockerDriver({ socketPath: flags.docker_socket, pull: flags.docker_pull as PullPolicy, pullTimeoutSeconds: flags.docker_pull_timeout });
  await driver.docker.ping().catch((err: Error) => {
    throw new Error(`no Docker engine answers at ${flags.docker_socket} (${err.message}); run scripts/setup.sh to start one`);
  });
  const say = flags.quiet ? () => {} : log;
  let httpPort = flags.port;
  const agent = new Agent({
    master: flags.master, hostname: flags.hostname ?? flags.ip, get httpPort() { return httpPort; }, workDir, resources, attributes, driver,
    defaultImage: flags.docker_default_image, pidsLimit: flags.pids_limit, killGraceSeconds: flags.kill_grace_period,
    statusUpdateRetrySeconds: flags.status_update_retry_interval, clock: systemClock, log: say,
  });
  const http = await startAgentHttp(agent, flags.ip, flags.port);
  httpPort = http.port;
  await agent.start();
  say(`[agent] offering ${resources.toString()} to the master at ${flags.master}; HTTP on http://${flags.ip}:${http.port}`);
  return {
    agent,
    httpAddress: `${flags.ip}:${http.port}`,
    agentId: () => agent.id,
    async stop(options = {}) {
      await agent.stop(options.killTasks ?? true);
      http.server.closeAllConnections();
      await new Promise<void>((done) => http.server.close(() => done()));
    },
  };
}

export async function agentCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(AGENT_FLAGS, argv);
  if (flags.help) {
    process.stdout.write(usage('agent', 'Runs a mesos-ts agent: offers this machine to the master and runs tasks in Docker.', AGENT_FLAGS) + '\n');
    return 0;
  }
  const running = await startAgent(argv);
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  running.agent.log('shutting down: killing tasks and removing their containers');
  await running.stop({ killTasks: true });
  return 0;
}
