// The master's flags, named as Apache Mesos names them where Mesos has them.
import type { FlagSpecs, ParseOptions } from '../common/flags.js';
import { LOG_FLAGS } from '../common/log/flags.js';
import { MESOS_MASTER_FLAGS, notImplemented } from '../common/mesos-flags.js';
import { TLS_FLAGS } from '../common/tls.js';
import { DEFAULT_MAX_GRPC_MESSAGE_SIZE } from '../common/grpc-limits.js';

export const MASTER_FLAGS = {
  ip: { type: 'string', default: '127.0.0.1', help: 'IP address to listen on (HTTP, and gRPC unless --grpc_ip says otherwise)' },
  grpc_ip: {
    type: 'string',
    help: 'IP address the gRPC server (schedulers, agents, the operator gRPC service) listens on when it differs from --ip, e.g. --ip=127.0.0.1 keeps the HTTP operator API and web UI on loopback while --grpc_ip serves the cluster',
  },
  grpc_operator_api: {
    type: 'boolean', default: true,
    help: 'serve the operator API over gRPC as well as over HTTP; false leaves it on the HTTP address (--ip) alone',
  },
  port: { type: 'number', default: 5050, help: 'HTTP port (/master/state and the other HTTP endpoints); 0 picks a free port' },
  grpc_port: { type: 'number', default: 5060, help: 'gRPC port for schedulers and agents; 0 picks a free port' },
  hostname: { type: 'string', help: 'hostname to advertise (default: the --advertise_ip, else the --ip)' },
  hostname_lookup: {
    type: 'boolean', default: false,
    help: "without --hostname, advertise this machine's host name instead of the IP (Mesos looks the IP up and defaults to true; mesos-ts advertises the IP unless asked)",
  },
  advertise_ip: {
    type: 'string', help: 'IP address handed out for this master (MasterInfo in ZooKeeper and SUBSCRIBED, pid, redirects) when it differs from --ip, e.g. behind NAT',
  },
  advertise_port: { type: 'number', help: 'HTTP port handed out for this master when it differs from --port' },
  domain: {
    type: 'string',
    help: 'fault domain, as Mesos takes it: DomainInfo JSON ({"fault_domain":{"region":{"name":"R"},"zone":{"name":"Z"}}}) or a path to a file holding it; MasterInfo carries it',
  },
  allocator: {
    type: 'string', default: 'drf',
    help: 'allocation policy: drf, binpack, spread, fifo or random, or a module path (./my-policy.js) whose default export makes an Allocator',
  },
  weights: { type: 'string', help: 'role weights for fair sharing, ROLE=WEIGHT,... (e.g. ops=2,dev=1); other roles weigh 1' },
  quota: {
    type: 'string',
    help: 'role quotas, ROLE:GUARANTEE[/LIMIT],... (e.g. ops:cpus:4;mem:1024/cpus:8,dev:cpus:1), or Mesos QuotaConfig JSON (inline or a .json file)',
  },
  min_allocatable_resources: {
    type: 'string', default: 'cpus:0.01|mem:32', help: 'only offer an agent\'s free resources holding one of these bundles (separated by |)',
  },
  allocation_interval: { type: 'duration', default: 1, help: 'time between allocation passes (passes also run when resources change)' },
  allocation_pass_budget: {
    type: 'duration', default: 0.05,
    help: 'an allocation pass (making its offers included) stops after this long and the next one (run at once, after other work) goes on with the agents it did not visit, so a pass over thousands of agents does not block the master; 0 for passes without bound',
  },
  offer_timeout: { type: 'duration', default: 30, help: 'unused offers are rescinded after this long; 0 keeps them (Mesos default)' },
  heartbeat_interval: { type: 'duration', default: 15, help: 'interval of HEARTBEAT events to schedulers' },
  agent_ping_timeout: { type: 'duration', default: 15, help: 'interval of pings to agents' },
  max_agent_ping_timeouts: { type: 'number', default: 5, help: 'missed pings before an agent link is dropped' },
  grpc_keepalive_interval: {
    type: 'duration', default: 15,
    help: 'the master pings each gRPC connection (schedulers, agents, operator streams) this often; a peer that vanished without closing its socket is then noticed',
  },
  grpc_keepalive_timeout: {
    type: 'duration', default: 20,
    help: 'a connection whose keepalive ping is unanswered this long is dropped: its framework is disconnected (failover_timeout runs), its agent disconnected',
  },
  max_grpc_message_size: {
    type: 'number', default: DEFAULT_MAX_GRPC_MESSAGE_SIZE,
    help: 'largest gRPC message, in bytes, the master accepts or sends (schedulers, agents, the operator service); a larger one fails its call with RESOURCE_EXHAUSTED (default 16 MiB)',
  },
  max_framework_event_queue: {
    type: 'number', default: 10000,
    help: 'events a scheduler may leave unread on its stream; beyond this the master drops the stream (the framework is disconnected and may re-subscribe)',
  },
  max_framework_event_queue_bytes: {
    type: 'number', default: 64 * 1024 * 1024,
    help: 'bytes of events (as sent on the wire) a scheduler may leave unread on its stream; beyond this the master drops the stream as with --max_framework_event_queue',
  },
  agent_reregister_timeout: {
    type: 'duration', default: 600, help: 'how long a disconnected agent has to come back before its tasks are unreachable',
  },
  registry_max_agent_age: {
    type: 'duration', default: 14 * 24 * 3600,
    help: 'an agent unreachable this long is gone: its tasks are reported TASK_GONE and it may not come back under its id',
  },
  work_dir: {
    type: 'string',
    help: 'where a master leading alone (no --zk) keeps its registry (work_dir/registry.json), so a restart keeps agents, frameworks and tasks; with --zk, ZooKeeper holds it',
  },
  zk: { type: 'string', help: 'zk://host:port[,host:port]/path: contend for leadership with other masters there (default: lead alone)' },
  zk_session_timeout: { type: 'duration', default: 10, help: 'ZooKeeper session timeout; a master that loses its session stops leading' },
  log_accepted_calls: {
    type: 'boolean', default: false,
    help: "log an 'accepted call' line (the leader's term, the time in ms) for every call this master accepts as leader, to check that no two leaders ever act at once",
  },
  authenticate_frameworks: { type: 'boolean', default: false, help: 'only schedulers presenting a principal and secret from --credentials may subscribe or call (gRPC)' },
  authenticate_agents: { type: 'boolean', default: false, help: 'only agents presenting a principal and secret from --credentials (their --credential) may register' },
  authenticate_http_frameworks: { type: 'boolean', default: false, help: 'the v1 scheduler HTTP API (/api/v1/scheduler) demands HTTP basic authentication' },
  authenticate_http_readwrite: {
    type: 'boolean', default: false, help: 'the operator API (/api/v1, gRPC Operator) and every HTTP write endpoint demand credentials',
  },
  authenticate_http_readonly: {
    type: 'boolean', default: false, help: 'the read-only HTTP endpoints (/master/state, /master/flags, /metrics/snapshot, ...) demand HTTP basic authentication',
  },
  acls: {
    type: 'string',
    help: 'Mesos ACLs for authorization (docs/authorization.md): the JSON itself, or a path to it (file://PATH); e.g. {"run_tasks":[{"principals":{"type":"ANY"},"users":{"values":["root"]}}]}',
  },
  credentials: {
    type: 'string',
    help: 'path to the credentials (or file://PATH): JSON {"credentials":[{"principal":"P","secret":"S"}]} or lines "principal secret"; never printed',
  },
  ...TLS_FLAGS,
  ...LOG_FLAGS,
} as const satisfies FlagSpecs;

/** A Mesos master flag not above is refused by name. */
export const MASTER_PARSE: ParseOptions = { mesos: { flags: MESOS_MASTER_FLAGS, refuse: (name) => notImplemented(name, 'master') } };
