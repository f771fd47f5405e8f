// `mesos-ts local`: a whole cluster on this machine — a master and two
// agents on loopback, then the demo framework launching real container
// tasks — with the tasks' states drawn live. On exit or Ctrl-C everything
// stops and every container the agents started is removed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { parseFlags, usage } from '../common/flags.js';
import { errorMessage } from '../common/errors.js';
import type { RunningMaster } from '../master/main.js';
import type { RunningAgent } from '../agent/main.js';
import { LiveArea } from './live-area.js';
import { LOG_FLAGS } from '../common/log/flags.js';

const LOCAL_FLAGS = {
  agents: { type: 'number', default: 2, help: 'how many agents to start' },
  tasks: { type: 'number', default: 10, help: 'how many demo tasks to launch' },
  image: { type: 'string', default: 'mesos-ts/busybox:latest', help: 'image of the demo tasks' },
  port: { type: 'number', default: 5050, help: "master's HTTP port (/master/state); 0 picks a free one" },
  grpc_port: { type: 'number', default: 5060, help: "master's gRPC port; 0 picks a free one" },
  keep_running: { type: 'boolean', default: false, help: 'after the demo, keep the cluster up until Ctrl-C' },
  logging_level: LOG_FLAGS.logging_level,
  log_dir: { type: 'string', help: "also keep the cluster's log in DIR: mesos-master.log, agent-N/mesos-agent.log (the live display stays clean)" },
} as const;

const say = (line: string) => process.stdout.write(`\x1b[1m[local]\x1b[0m ${line}\n`);

export async function localCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(LOCAL_FLAGS, argv);
  if (flags.help) {
    process.stdout.write(usage('local', 'Runs a master, agents and a demo framework on this machine.', LOCAL_FLAGS) + '\n');
    return 0;
  }
  // Imported once --help is out of the way: together they load gRPC, the .proto files and dockerode.
  const [{ default: Docker }, { startMaster }, { startAgent }, { runDemo, renderDemo }] = await Promise.all([
    import('dockerode'), import('../master/main.js'), import('../agent/main.js'), import('../framework/examples/demo.js'),
  ]);
  const docker = new Docker();
  await checkDocker(docker, flags.image);
  const base = mkdtempSync(join(tmpdir(), 'mesos-ts-local-'));
  const abort = new AbortController();
  const onSignal = () => {
    say('interrupted: killing the tasks and shutting down');
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // The cluster's log is collected (its last lines are shown if the demo fails), not printed over the live display.
  const logs: string[] = [];
  const log = (line: string) => logs.push(line);
  const logging = { logging_level: flags.logging_level, log_format: 'text' };
  let master: RunningMaster | null = null;
  const agents: RunningAgent[] = [];
  try {
    master = await startMaster({ ip: '127.0.0.1', port: flags.port, grpc_port: flags.grpc_port, allocation_interval: 0.5, ...logging, ...(flags.log_dir ? { log_dir: flags.log_dir } : {}) }, log);
    say(`master up: gRPC ${master.grpcAddress}, state at http://${master.httpAddress}/master/state`);
    for (let i = 0; i < flags.agents; i++) {
      const ports = `[${31000 + i * 100}-${31000 + i * 100 + 99}]`;
      agents.push(
        await startAgent({
          master: master.grpcAddress, ip: '127.0.0.1', port: 0, work_dir: join(base, `agent-${i + 1}`),
          resources: `cpus:1;mem:1024;disk:2048;ports:${ports}`, attributes: `rack:r${i + 1}`, log, ...logging,
          ...(flags.log_dir ? { log_dir: join(flags.log_dir, `agent-${i + 1}`) } : {}),
        }),
      );
    }
    say(`${agents.length} agents up (cpus:1;mem:1024 each); launching ${flags.tasks} container tasks from ${flags.image}`);
    const live = process.stdout.isTTY ? new LiveArea() : null;
    const result = await runDemo({
      master: master.grpcAddress,
      tasks: flags.tasks,
      image: flags.image,
      signal: abort.signal,
      onProgress: (view) => (live ? live.draw(renderDemo(view, { color: true })) : undefined),
      onEvent: live ? undefined : (line: string) => say(line),
    });
    live?.done();
    say(result.ok ? `all ${result.finished} tasks FINISHED` : `demo ended: ${result.summary}`);
    if (flags.keep_running && !abort.signal.aborted) {
      say('cluster stays up; Ctrl-C to stop');
      await new Promise((resolve) => abort.signal.addEventListener('abort', resolve, { once: true }));
    }
    return result.ok ? 0 : 1;
  } catch (err) {
    say(`failed: ${errorMessage(err)}`);
    if (logs.length) process.stdout.write(logs.slice(-20).map((l) => `  ${l}\n`).join(''));
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    say('stopping agents (removing their containers) and the master');
    for (const agent of agents) await agent.stop({ killTasks: true }).catch((err: unknown) => say(`agent stop: ${errorMessage(err)}`));
    await master?.stop();
    const left = await containersUnder(docker, base);
    say(left === 0 ? 'clean: no container or process left behind' : `warning: ${left} container(s) still present`);
    rmSync(base, { recursive: true, force: true });
  }
}

async function checkDocker(docker: Docker, image: string): Promise<void> {
  try {
    await docker.ping();
  } catch {
    throw new Error('no Docker engine answers on /var/run/docker.sock; run `bash scripts/setup.sh` (or `npm run local`, which does)');
  }
  try {
    await docker.getImage(image).inspect();
  } catch {
    throw new Error(`image ${image} is missing; run \`bash scripts/build-images.sh\``);
  }
}

async function containersUnder(docker: Docker, base: string): Promise<number> {
  const all = await docker.listContainers({ all: true, filters: { label: ['mesos-ts.work_dir'] } });
  return all.filter((c) => (c.Labels['mesos-ts.work_dir'] ?? '').startsWith(base)).length;
}
