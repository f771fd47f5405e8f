// `mesos-ts demo`: the demo framework of `mesos-ts local`, run against a
// cluster that is already up — one master (host:port), several
// (comma-separated) or the leading one in ZooKeeper (zk://host:port/path),
// as the docker-compose cluster's `demo` service does. On a terminal the
// tasks' table is drawn live; otherwise (logs) one line per task change and
// the table at the end. Exits 0 only when every demo task FINISHED.
import { CLIENT_CREDENTIAL_FLAGS, clientCredential } from '../common/credentials.js';
import { parseFlags, usage } from '../common/flags.js';
import { TLS_FLAGS, clientTls } from '../common/tls.js';
import { InvalidArgument, errorMessage } from '../common/errors.js';
import { checkMasterFlag } from '../common/zk/url.js';
import { redactText } from '../common/log/redact.js';
import type { DemoResult, DemoView } from '../framework/examples/demo.js';
import { LiveArea } from './live-area.js';
import { parseContainerizer } from '../framework/sdk/task-builder.js';

export const DEMO_FLAGS = {
  master: { type: 'string', required: true, help: "the master: HOST:PORT (gRPC), several comma-separated, or zk://HOST:PORT/PATH to follow the leader" },
  tasks: { type: 'number', default: 10, help: 'how many demo tasks to launch (each sleeps 1-3 s)' },
  // The demo's DEMO_IMAGE, written out: importing the demo loads gRPC, which --help does without.
  docker_image: { type: 'string', default: 'mesos-ts/busybox:latest', help: 'image of the demo tasks (needs /bin/sh, echo and sleep; the agents must have it)' },
  containerizer: { type: 'string', default: 'docker', help: "'docker' or 'mesos' (the agents' own containerizer, --containerizers=...,mesos), as mesos-execute takes it" },
  timeout: { type: 'duration', default: 300, help: 'give up (killing the tasks) after this long, in seconds or with a unit (e.g. 2mins)' },
  quiet: { type: 'boolean', default: false, help: 'print only the final table and summary' },
  ...CLIENT_CREDENTIAL_FLAGS,
  ...TLS_FLAGS,
} as const;

const say = (line: string) => process.stdout.write(`[demo] ${line}\n`);

export async function demoCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(DEMO_FLAGS, argv, { env: process.env });
  if (flags.help) {
    process.stdout.write(usage('demo', 'Runs the demo framework (short container tasks) against a running cluster and shows their states.', DEMO_FLAGS) + '\n');
    return 0;
  }
  if (flags._.length > 0) throw new InvalidArgument(`unexpected argument '${flags._[0]}'`);
  checkMasterFlag(flags.master, { several: true });
  if (!Number.isInteger(flags.tasks) || flags.tasks < 1) throw new InvalidArgument(`--tasks must be a whole number >= 1, got ${flags.tasks}`);
  if (!(flags.timeout > 0)) throw new InvalidArgument(`--timeout must be positive, got ${flags.timeout}`);
  const credential = clientCredential(flags);
  const tls = clientTls(flags, process.env);
  const containerizer = parseContainerizer(flags.containerizer);

  const { runDemo, renderDemo } = await import('../framework/examples/demo.js');
  const abort = new AbortController();
  let why = '';
  const stop = (reason: string) => () => {
    if (abort.signal.aborted) return;
    why = reason;
    say(`${reason}: killing the tasks and tearing the framework down`);
    abort.abort();
  };
  const onSignal = stop('interrupted');
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const timer = setTimeout(stop(`timed out after ${flags.timeout} s`), flags.timeout * 1000);
  const live = !flags.quiet && process.stdout.isTTY ? new LiveArea() : null;
  let last = null as DemoView | null;
  if (!flags.quiet) say(`launching ${flags.tasks} tasks from ${flags.docker_image} through ${redactText(flags.master)}`);
  let result: DemoResult;
  try {
    result = await runDemo({
      master: flags.master,
      ...(credential ? { credential } : {}),
      tls,
      tasks: flags.tasks,
      image: flags.docker_image,
      containerizer,
      signal: abort.signal,
      onProgress: (view) => {
        last = view;
        live?.draw(renderDemo(view, { color: true }));
      },
      onEvent: live || flags.quiet ? undefined : say,
    });
  } catch (err) {
    if (err instanceof InvalidArgument) throw err;
    say(`failed: ${errorMessage(err)}`);
    return 1;
  } finally {
    clearTimeout(timer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (!live && last) process.stdout.write(renderDemo(last));
  say(why && !result.ok ? `${result.summary} (${why})` : result.summary);
  return result.ok ? 0 : 1;
}
