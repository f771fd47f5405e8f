// `mesos-ts agent`: flags (command line over MESOS_* environment) and --help here; the agent itself (gRPC, Docker,
// ZooKeeper) is imported only when one is started, so that
// `mesos-ts agent --help` answers at once.
import { shutdownSignal } from '../common/signals.js';
import { parseFlags, usage } from '../common/flags.js';
import { withTlsEnvironment } from '../common/tls.js';
import { AGENT_FLAGS, AGENT_PARSE } from './flags.js';

export async function agentCommand(argv: string[]): Promise<number> {
  // LIBPROCESS_SSL_* as Mesos reads them, where no --ssl_* flag (nor MESOS_SSL_*) is given.
  const flags = withTlsEnvironment(parseFlags(AGENT_FLAGS, argv, { ...AGENT_PARSE, env: process.env }), process.env);
  if (flags.help) {
    process.stdout.write(usage('agent', 'Runs a mesos-ts agent: offers this machine to the master and runs tasks in Docker containers.', AGENT_FLAGS, AGENT_PARSE) + '\n');
    return 0;
  }
  const { startAgent } = await import('./main.js');
  const running = await startAgent(flags);
  // SIGUSR1 drains: no new tasks, running ones may finish (up to --drain_timeout), then the agent leaves.
  const drained = new Promise<'SIGUSR1'>((resolve) => process.once('SIGUSR1', () => resolve('SIGUSR1')));
  const signal = await Promise.race([shutdownSignal(), drained, running.shutdown.then(() => 'master' as const)]);
  if (signal === 'master') {
    await running.stop({ killTasks: true });
    return 0;
  }
  if (signal === 'SIGUSR1') {
    await running.agent.drain(flags.drain_timeout, 'SIGUSR1');
    await running.stop({ killTasks: true });
    return 0;
  }
  running.agent.logger.info(`${signal}: killing tasks and removing their containers (send it again to exit at once)`);
  await running.stop({ killTasks: true });
  return 0;
}
