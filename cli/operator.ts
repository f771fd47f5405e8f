// The operator's write commands: `mesos-ts maintenance | drain | reactivate |
// weights | quota | teardown`. Each is one call of the master's v1 operator
// API (POST /api/v1, see master/operator/write-calls.ts); the master answers
// once the change is in its registry, so a command that returns 0 has
// changed the cluster for good (a new leader keeps it). Without a change to
// make, weights, quota and maintenance print what is set.
import { parseFlags, parseDuration, usage, type FlagSpecs } from '../common/flags.js';
import { InvalidArgument } from '../common/errors.js';
import { Resources } from '../common/resources.js';
import { MASTER_FLAG, masterAddress } from './master-address.js';
import { operatorCall, type MasterHttp } from './state.js';
import { CLIENT_CREDENTIAL_FLAGS, clientCredential } from '../common/credentials.js';
import { TLS_FLAGS, clientTls, type TlsFlags } from '../common/tls.js';
import { quantity, table } from './table.js';

const MASTER = { master: MASTER_FLAG, ...CLIENT_CREDENTIAL_FLAGS, ...TLS_FLAGS } as const;

type Run = (master: () => Promise<MasterHttp>, args: string[], flags: Record<string, unknown>) => Promise<number>;

interface OperatorCommand {
  readonly summary: string;
  readonly usage: string;
  readonly flags: FlagSpecs;
  readonly run: Run;
}

/** `host`, `host/ip` or an IPv4 address, as a Mesos MachineID. */
export function machineOf(text: string): { hostname?: string; ip?: string } {
  const [host = '', ip = ''] = text.split('/');
  if (!host && !ip) throw new InvalidArgument(`'${text}' is not a machine (HOST, HOST/IP or IP)`);
  if (!ip && /^\d+\.\d+\.\d+\.\d+$/.test(host)) return { ip: host };
  return { ...(host ? { hostname: host } : {}), ...(ip ? { ip } : {}) };
}

const describeMachine = (m: { hostname?: string; ip?: string }) => [m.hostname, m.ip].filter(Boolean).join('/');

/** `2026-12-24T08:00:00Z`, seconds since the epoch, or `+1h` (from now), as seconds since the epoch. */
export function startOf(text: string, now: number): number {
  if (text.startsWith('+')) return now + parseDuration(text.slice(1), 'start');
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new InvalidArgument(`--start: '${text}' is neither a date (2026-12-24T08:00:00Z), epoch seconds nor +DURATION`);
  return ms / 1000;
}

/** Headers as table columns (left-aligned). */
const cols = (...headers: string[]) => headers.map((header) => ({ header }));

const nanos = (seconds: number) => Math.round(seconds * 1e9);

interface Window { machine_ids?: { hostname?: string; ip?: string }[]; unavailability?: { start?: { nanoseconds?: number }; duration?: { nanoseconds?: number } } }

const maintenance: OperatorCommand = {
  summary: 'maintenance windows: schedule machines, bring them down and up, show the schedule and the answers of frameworks',
  usage: [
    'mesos-ts maintenance                                     the schedule and each machine\'s mode',
    'mesos-ts maintenance schedule MACHINE... --start T [--duration D]   adds a window (machines DRAINING)',
    'mesos-ts maintenance clear                               removes every window of machines that are not DOWN',
    'mesos-ts maintenance down MACHINE...                     DRAINING -> DOWN: their agents are shut down',
    'mesos-ts maintenance up MACHINE...                       DOWN -> UP: out of the schedule, agents may register',
    'MACHINE is HOST, HOST/IP or IP; T is an ISO date, epoch seconds or +DURATION (e.g. +1h).',
  ].join('\n'),
  flags: {
    ...MASTER,
    start: { type: 'string', help: 'when the window starts: ISO date, epoch seconds, or +DURATION from now' },
    duration: { type: 'duration', help: 'how long the machines are down (default: indefinitely)' },
    json: { type: 'boolean', default: false, help: 'print the operator API\'s JSON answers' },
  },
  run: async (master, args, flags) => {
    const [verb = 'show', ...machines] = args;
    const address = await master();
    const schedule = async () =>
      ((await operatorCall<{ get_maintenance_schedule?: { schedule?: { windows?: Window[] } } }>(address, 'GET_MAINTENANCE_SCHEDULE'))
        .get_maintenance_schedule?.schedule?.windows ?? []);
    if (verb === 'show') {
      const windows = await schedule();
      const status = (await operatorCall<{ get_maintenance_status?: { status?: MaintenanceStatus } }>(address, 'GET_MAINTENANCE_STATUS')).get_maintenance_status?.status ?? {};
      if (flags.json) return print({ windows, status });
      return print(maintenanceTable(windows, status));
    }
    if (verb === 'clear') {
      const down = new Set(((await operatorCall<{ get_maintenance_status?: { status?: MaintenanceStatus } }>(address, 'GET_MAINTENANCE_STATUS'))
        .get_maintenance_status?.status?.down_machines ?? []).map(describeMachine));
      const kept = (await schedule())
        .map((w) => ({ ...w, machine_ids: (w.machine_ids ?? []).filter((m) => down.has(describeMachine(m))) }))
        .filter((w) => w.machine_ids.length > 0);
      await operatorCall(address, { type: 'UPDATE_MAINTENANCE_SCHEDULE', update_maintenance_schedule: { schedule: { windows: kept } } });
      return print(`schedule cleared${kept.length > 0 ? ` (machines still DOWN stay: ${[...down].join(', ')})` : ''}`);
    }
    if (machines.length === 0) throw new InvalidArgument(`maintenance ${verb} needs at least one MACHINE (see mesos-ts maintenance --help)`);
    const ids = machines.map(machineOf);
    if (verb === 'schedule') {
      if (typeof flags.start !== 'string') throw new InvalidArgument('maintenance schedule needs --start');
      const start = startOf(flags.start, Date.now() / 1000);
      const unavailability = { start: { nanoseconds: nanos(start) }, ...(typeof flags.duration === 'number' ? { duration: { nanoseconds: nanos(flags.duration) } } : {}) };
      const windows = [...(await schedule()), { machine_ids: ids, unavailability }];
      await operatorCall(address, { type: 'UPDATE_MAINTENANCE_SCHEDULE', update_maintenance_schedule: { schedule: { windows } } });
      return print(`scheduled ${ids.map(describeMachine).join(', ')} from ${new Date(start * 1000).toISOString()}`);
    }
    if (verb === 'down' || verb === 'up') {
      const type = verb === 'down' ? 'START_MAINTENANCE' : 'STOP_MAINTENANCE';
      await operatorCall(address, { type, [type.toLowerCase()]: { machines: ids } });
      return print(`${ids.map(describeMachine).join(', ')} ${verb === 'down' ? 'DOWN' : 'UP'}`);
    }
    throw new InvalidArgument(`unknown maintenance command '${verb}' (schedule, clear, down, up)`);
  },
};

interface MaintenanceStatus {
  draining_machines?: { id: { hostname?: string; ip?: string }; statuses?: { status: string; framework_id: { value: string } }[] }[];
  down_machines?: { hostname?: string; ip?: string }[];
}

function maintenanceTable(windows: readonly Window[], status: MaintenanceStatus): string {
  const down = new Set((status.down_machines ?? []).map(describeMachine));
  const answers = new Map((status.draining_machines ?? []).map((d) => [describeMachine(d.id), d.statuses ?? []]));
  const rows = windows.flatMap((w) => (w.machine_ids ?? []).map((m) => {
    const start = Number(w.unavailability?.start?.nanoseconds ?? 0) / 1e9;
    const duration = w.unavailability?.duration?.nanoseconds;
    const key = describeMachine(m);
    return [
      key, down.has(key) ? 'DOWN' : 'DRAINING', new Date(start * 1000).toISOString(), duration === undefined ? 'indefinite' : `${Number(duration) / 1e9}s`,
      (answers.get(key) ?? []).map((a) => `${a.framework_id.value}:${a.status}`).join(' ') || '-',
    ];
  }));
  if (rows.length === 0) return 'no maintenance scheduled';
  return table(cols('MACHINE', 'MODE', 'START', 'DURATION', 'FRAMEWORKS (inverse offers)'), rows).trimEnd();
}

const drain: OperatorCommand = {
  summary: 'drain an agent: no more offers, its tasks killed (grace capped), then DRAINED (and gone with --mark_gone)',
  usage: 'mesos-ts drain AGENT_ID [--max_grace_period=30s] [--mark_gone]',
  flags: {
    ...MASTER,
    max_grace_period: { type: 'duration', help: 'caps each task\'s kill grace period (default: the task\'s own)' },
    mark_gone: { type: 'boolean', default: false, help: 'mark the agent gone once it is drained' },
  },
  run: async (master, args, flags) => {
    const agentId = one(args, 'AGENT_ID');
    const grace = flags.max_grace_period as number | undefined;
    await operatorCall(await master(), {
      type: 'DRAIN_AGENT',
      drain_agent: {
        agent_id: { value: agentId }, mark_gone: flags.mark_gone === true,
        ...(grace !== undefined ? { max_grace_period: { seconds: Math.floor(grace), nanos: Math.round((grace % 1) * 1e9) } } : {}),
      },
    });
    return print(`agent ${agentId} is draining (see mesos-ts agents)`);
  },
};

const agentCall = (type: 'DEACTIVATE_AGENT' | 'REACTIVATE_AGENT' | 'MARK_AGENT_GONE', done: string): OperatorCommand => ({
  summary: `${type.toLowerCase().replaceAll('_', ' ')}: ${done}`,
  usage: `mesos-ts ${type === 'MARK_AGENT_GONE' ? 'mark-gone' : type.split('_')[0]!.toLowerCase()} AGENT_ID`,
  flags: MASTER,
  run: async (master, args) => {
    const agentId = one(args, 'AGENT_ID');
    await operatorCall(await master(), { type, [type.toLowerCase()]: { agent_id: { value: agentId } } });
    return print(`agent ${agentId}: ${done}`);
  },
});

const weights: OperatorCommand = {
  summary: 'show role weights, or set them: mesos-ts weights ROLE=WEIGHT...',
  usage: 'mesos-ts weights [ROLE=WEIGHT...]',
  flags: { ...MASTER, json: { type: 'boolean', default: false, help: 'print the operator API\'s JSON answer' } },
  run: async (master, args, flags) => {
    const address = await master();
    if (args.length === 0) {
      const infos = (await operatorCall<{ get_weights?: { weight_infos?: { role: string; weight: number }[] } }>(address, 'GET_WEIGHTS')).get_weights?.weight_infos ?? [];
      if (flags.json) return print(infos);
      return print(infos.length === 0 ? 'no weights set (every role weighs 1)' : table(cols('ROLE', 'WEIGHT'), infos.map((w) => [w.role, String(w.weight)])));
    }
    const weight_infos = args.map((arg) => {
      const [role, value] = arg.split('=');
      const weight = Number(value);
      if (!role || value === undefined || !(weight > 0)) throw new InvalidArgument(`'${arg}' is not ROLE=WEIGHT with a positive weight`);
      return { role, weight };
    });
    await operatorCall(address, { type: 'UPDATE_WEIGHTS', update_weights: { weight_infos } });
    return print(`weights set: ${args.join(' ')}`);
  },
};

const quota: OperatorCommand = {
  summary: 'show quotas, or set a role\'s: mesos-ts quota ROLE --guarantee cpus:2;mem:1024 [--limit ...] | --remove',
  usage: 'mesos-ts quota [ROLE (--guarantee R | --limit R | --remove)]',
  flags: {
    ...MASTER,
    guarantee: { type: 'string', help: 'scalars the role is guaranteed, e.g. cpus:2;mem:1024' },
    limit: { type: 'string', help: 'scalars the role may never exceed' },
    remove: { type: 'boolean', default: false, help: 'remove the role\'s quota' },
    json: { type: 'boolean', default: false, help: 'print the operator API\'s JSON answer' },
  },
  run: async (master, args, flags) => {
    const address = await master();
    if (args.length === 0) {
      const status = (await operatorCall<{ get_quota?: { status?: { configs?: QuotaConfig[] } } }>(address, 'GET_QUOTA')).get_quota?.status ?? {};
      if (flags.json) return print(status);
      const configs = status.configs ?? [];
      return print(configs.length === 0 ? 'no quota set' : table(cols('ROLE', 'GUARANTEE', 'LIMIT'), configs.map((c) => [c.role, scalars(c.guarantees), scalars(c.limits)])));
    }
    const role = one(args, 'ROLE');
    const map = (text: unknown, flag: string) => {
      if (typeof text !== 'string') return {};
      const r = Resources.parse(text);
      if (r.list().some((e) => e.value.kind !== 'scalar')) throw new InvalidArgument(`--${flag}: only scalar resources can have quota, got ${text}`);
      return Object.fromEntries(r.names().map((n) => [n, { value: r.scalar(n) }]));
    };
    if (!flags.remove && flags.guarantee === undefined && flags.limit === undefined) throw new InvalidArgument('quota ROLE needs --guarantee, --limit or --remove');
    const config = flags.remove ? { role, guarantees: {}, limits: {} } : { role, guarantees: map(flags.guarantee, 'guarantee'), limits: map(flags.limit, 'limit') };
    await operatorCall(address, { type: 'UPDATE_QUOTA', update_quota: { quota_configs: [config] } });
    return print(flags.remove ? `quota of ${role} removed` : `quota of ${role} set`);
  },
};

interface QuotaConfig { role: string; guarantees?: Record<string, { value: number }>; limits?: Record<string, { value: number }> }
const scalars = (m: Record<string, { value: number }> | undefined) => Object.entries(m ?? {}).map(([n, v]) => `${n}:${quantity(v.value)}`).join(';') || '-';

const teardown: OperatorCommand = {
  summary: 'tear a framework down: its tasks are killed and it may not return',
  usage: 'mesos-ts teardown FRAMEWORK_ID',
  flags: MASTER,
  run: async (master, args) => {
    const id = one(args, 'FRAMEWORK_ID');
    await operatorCall(await master(), { type: 'TEARDOWN', teardown: { framework_id: { value: id } } });
    return print(`framework ${id} torn down`);
  },
};

export const OPERATOR_COMMANDS: Readonly<Record<string, OperatorCommand>> = {
  maintenance,
  drain,
  deactivate: agentCall('DEACTIVATE_AGENT', 'deactivated (no more offers; its tasks run on)'),
  reactivate: agentCall('REACTIVATE_AGENT', 'reactivated (offered again; a drain is over)'),
  'mark-gone': agentCall('MARK_AGENT_GONE', 'marked gone (its tasks are gone; it shuts down)'),
  weights,
  quota,
  teardown,
};

export async function operatorCommand(name: string, argv: string[]): Promise<number> {
  const command = OPERATOR_COMMANDS[name];
  if (!command) throw new InvalidArgument(`unknown command ${name}`);
  const flags = parseFlags(command.flags, argv, { env: process.env }) as Record<string, unknown> & { help: boolean; _: string[]; master: string };
  if (flags.help) {
    process.stdout.write(`${usage(name, command.summary, command.flags)}\n\n${command.usage}\n`);
    return 0;
  }
  const credential = clientCredential(flags as { principal?: string; secret?: string; credential?: string });
  const tls = clientTls(flags as TlsFlags, process.env);
  return command.run(async () => ({ address: await masterAddress(flags.master), credential, tls }), flags._, flags);
}

function one(args: readonly string[], what: string): string {
  if (args.length !== 1 || !args[0]) throw new InvalidArgument(`expected one ${what}, got ${args.length === 0 ? 'none' : args.join(' ')}`);
  return args[0];
}

function print(out: unknown): number {
  process.stdout.write((typeof out === 'string' ? out.trimEnd() : JSON.stringify(out, null, 2)) + '\n');
  return 0;
}
