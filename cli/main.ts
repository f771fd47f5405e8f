// The `mesos-ts` command: one binary, one subcommand per role.
import { errorMessage, MesosError } from '../common/errors.js';
import { redactText } from '../common/log/redact.js';

type Command = { summary: string; run: (argv: string[]) => Promise<number | void> };

/** The operator's write commands (cli/operator.ts, loaded only when one runs). */
const OPERATOR_SUMMARIES: Record<string, string> = {
  maintenance: 'maintenance windows: schedule machines, bring them down and up, show the schedule',
  drain: 'drain an agent: its tasks killed (grace capped), no more offers; --mark_gone',
  deactivate: 'stop offering an agent (its tasks run on)',
  reactivate: 'offer a deactivated or drained agent again',
  'mark-gone': 'mark an agent gone: its tasks are gone and it shuts down',
  weights: 'show role weights, or set them: ROLE=WEIGHT...',
  quota: "show quotas, or set a role's guarantee and limit",
  teardown: 'tear a framework down (its tasks are killed)',
};

const COMMANDS: Record<string, Command> = {
  master: { summary: 'run a master', run: async (argv) => (await import('../master/command.js')).masterCommand(argv) },
  agent: { summary: 'run an agent on this node', run: async (argv) => (await import('../agent/command.js')).agentCommand(argv) },
  execute: {
    summary: 'run tasks on the cluster and wait for them (like mesos-execute)',
    run: async (argv) => (await import('../framework/cli/execute.js')).executeCommand(argv),
  },
  apps: {
    summary: "run the apps framework: long-running services with Marathon's REST API (--master, --zk, --http_port)",
    run: async (argv) => (await import('../framework/apps/command.js')).appsCommand(argv),
  },
  app: {
    summary: 'deploy, list, show, scale, restart, rm, rollback apps of the apps framework (--apps URL)',
    run: async (argv) => (await import('./app.js')).appCommand(argv),
  },
  deployments: {
    summary: "list the apps framework's running deployments (--apps URL)",
    run: async (argv) => (await import('./app.js')).deploymentsCommand(argv),
  },
  logs: {
    summary: "print a task's stdout or stderr from its sandbox (--follow to keep printing)",
    run: async (argv) => (await import('./logs.js')).logsCommand(argv),
  },
  state: {
    summary: 'summarize the cluster: leading master, agents, frameworks, tasks, resources (--json for scripts)',
    run: async (argv) => (await import('./state.js')).stateCommand('state', argv),
  },
  agents: { summary: 'list the agents as a table (--json for scripts)', run: async (argv) => (await import('./state.js')).stateCommand('agents', argv) },
  frameworks: {
    summary: 'list the frameworks as a table (--json for scripts)',
    run: async (argv) => (await import('./state.js')).stateCommand('frameworks', argv),
  },
  tasks: { summary: 'list the tasks as a table (--all adds completed ones; --json for scripts)', run: async (argv) => (await import('./state.js')).stateCommand('tasks', argv) },
  ...Object.fromEntries(
    ['maintenance', 'drain', 'deactivate', 'reactivate', 'mark-gone', 'weights', 'quota', 'teardown'].map((name) => [name, {
      summary: OPERATOR_SUMMARIES[name]!,
      run: async (argv: string[]) => (await import('./operator.js')).operatorCommand(name, argv),
    }]),
  ),
  lb: {
    summary: 'HAProxy in front of the apps of an apps API (mesos-ts apps or Marathon), like marathon-lb',
    run: async (argv) => (await import('./lb.js')).lbCommand(argv),
  },
  local: {
    summary: 'a master, two agents and a demo framework on this machine (--masters 3: with ZooKeeper; --kill_leader_after: a failover)',
    run: async (argv) => (await import('./local.js')).localCommand(argv),
  },
  demo: {
    summary: 'run the demo framework against a running cluster (host:port or zk://)',
    run: async (argv) => (await import('./demo.js')).demoCommand(argv),
  },
  image: {
    summary: "put an image archive (docker save or OCI) in the mesos containerizer's local registry: image import FILE",
    run: async (argv) => (await import('./image.js')).imageCommand(argv),
  },
  simulate: {
    summary: 'compare allocation policies on a workload in simulated time (summary, CSVs, SVG charts)',
    run: async (argv) => (await import('./simulate.js')).simulateCommand(argv),
  },
};

/** How long a command that has ended may still keep the process alive before it is ended with its exit code. */
const HELD_AFTER_END_MS = 10_000;

/**
 * A command that returned its exit code is done (the long-running ones, master and agent, return
 * nothing). If a socket or a timer its clean-up missed still holds the event loop, the process
 * would never exit: a user waits at a prompt that does not come back. Say what holds it (the kinds
 * of handle Node lists), and exit.
 */
export function exitIfHeld(name: string, code: number, afterMs = HELD_AFTER_END_MS): void {
  setTimeout(() => {
    const counts = new Map<string, number>();
    for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
    const held = [...counts].map(([kind, n]) => (n > 1 ? `${kind} x${n}` : kind)).join(', ');
    process.stderr.write(`mesos-ts ${name}: still running ${afterMs / 1000} s after it ended, held by ${held}; exiting\n`);
    process.exit(code);
  }, afterMs).unref();
}

export async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length)) + 2;
    const lines = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(width)}${c.summary}`);
    const out = `Usage: mesos-ts <command> [flags]\n\nCommands:\n${lines.join('\n')}\n\nRun 'mesos-ts <command> --help' for a command's flags. A flag may also be set in\n` +
      `the environment: MESOS_<FLAG> for master and agent (MESOS_ZK, MESOS_WORK_DIR),\n` +
      `MESOS_TS_<FLAG> for the other commands (MESOS_TS_MASTER); the command line wins.\n` +
      `A value file:///path is read from that file.`;
    if (name && name !== '--help' && name !== '-h' && name !== 'help') {
      process.stderr.write(`mesos-ts: unknown command '${name}'\n\n${out}\n`);
      process.exit(2);
    }
    process.stdout.write(out + '\n');
    return;
  }
  try {
    const code = await command.run(rest);
    if (typeof code === 'number') {
      process.exitCode = code;
      exitIfHeld(name!, code);
    }
  } catch (err) {
    // Redacted as log lines are: an error may quote a flag's value (a zk:// URL with credentials).
    process.stderr.write(`mesos-ts ${name}: ${redactText(errorMessage(err))}\n`);
    process.exit(err instanceof MesosError && err.code === 'INVALID_ARGUMENT' ? 2 : 1);
  }
}
