// `mesos-ts master`: flags (command line over MESOS_* environment) and --help here; the master itself (gRPC, the
// .proto files, ZooKeeper) is imported only when one is started, so that
// `mesos-ts master --help` answers at once.
import { shutdownSignal } from '../common/signals.js';
import { parseFlags, usage } from '../common/flags.js';
import { withTlsEnvironment } from '../common/tls.js';
import { MASTER_FLAGS, MASTER_PARSE } from './flags.js';

export async function masterCommand(argv: string[]): Promise<number> {
  // LIBPROCESS_SSL_* as Mesos reads them, where no --ssl_* flag (nor MESOS_SSL_*) is given.
  const flags = withTlsEnvironment(parseFlags(MASTER_FLAGS, argv, { ...MASTER_PARSE, env: process.env }), process.env);
  if (flags.help) {
    process.stdout.write(usage('master', 'Runs a mesos-ts master: schedulers and agents connect to its gRPC port.', MASTER_FLAGS, MASTER_PARSE) + '\n');
    return 0;
  }
  const { startMaster } = await import('./main.js');
  let deposed: (why: string) => void = () => {};
  const lost = new Promise<string>((resolve) => (deposed = resolve));
  const running = await startMaster(flags, undefined, (why) => deposed(why));
  const ended = await Promise.race([shutdownSignal(), lost.then(() => 'deposed' as const)]);
  if (ended === 'deposed') {
    await running.stop();
    return 1;
  }
  await running.stop();
  return 0;
}
