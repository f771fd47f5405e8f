// The agent's flags, named as Apache Mesos names them where Mesos has them.
import type { FlagSpecs, ParseOptions } from '../common/flags.js';
import { LOG_FLAGS } from '../common/log/flags.js';
import { MESOS_AGENT_FLAGS, notImplemented } from '../common/mesos-flags.js';
import { TLS_FLAGS } from '../common/tls.js';
import { DEFAULT_MAX_GRPC_MESSAGE_SIZE } from '../common/grpc-limits.js';

export const AGENT_FLAGS = {
  master: { type: 'string', required: true, help: "the master's gRPC address, host:port" },
  ip: { type: 'string', default: '127.0.0.1', help: 'IP address the HTTP endpoint (/state, /health) listens on' },
  port: { type: 'number', default: 5051, help: 'HTTP port; 0 picks a free port' },
  hostname: { type: 'string', help: 'hostname advertised to the master (default: the --advertise_ip, else the --ip)' },
  hostname_lookup: {
    type: 'boolean', default: false,
    help: "without --hostname, advertise this machine's host name instead of the IP (Mesos looks the IP up and defaults to true; mesos-ts advertises the IP unless asked)",
  },
  advertise_ip: { type: 'string', help: 'IP address handed out for this agent (its pid, Offer.url) when it differs from --ip, e.g. behind NAT' },
  advertise_port: { type: 'number', help: 'HTTP port handed out for this agent (AgentInfo.port, pid, Offer.url) when it differs from --port' },
  domain: {
    type: 'string',
    help: 'fault domain, as Mesos takes it: DomainInfo JSON ({"fault_domain":{"region":{"name":"R"},"zone":{"name":"Z"}}}) or a path to a file holding it; offers carry it',
  },
  work_dir: { type: 'string', default: '/tmp/mesos-ts/agent', help: 'directory of the task sandboxes (stdout, stderr); also labels this agent\'s containers' },
  resources: {
    type: 'string',
    help: "resources to offer, e.g. 'cpus:2;mem:1024;disk:4096;ports:[31000-32000]', or Mesos's JSON array of Resource objects; cpus, mem, disk and ports left out are detected",
  },
  attributes: { type: 'string', default: '', help: "attributes, e.g. 'rack:r1;zone:a;level:3'" },
  containerizers: {
    type: 'string', default: 'docker',
    help: "containerizers this agent runs, in order of preference (Mesos's flag): 'docker' (the Docker engine), 'mesos' (OCI containers run by --oci_runtime, no Docker engine needed); a task without ContainerInfo runs on the first",
  },
  oci_runtime: { type: 'string', default: 'runc', help: 'the OCI runtime of the mesos containerizer: a name on the PATH or a path (runc; crun where the cgroup layout allows it)' },
  seccomp_profile_name: {
    type: 'string', default: 'default',
    help: "mesos containerizer: the seccomp filter of every task (Mesos's flag): 'default' refuses with EPERM the calls that reach outside the container or into the kernel (mount, unshare, setns, ptrace, keyctl, bpf, kexec, modules, reboot, the clock...; docs/containerizer.md), 'unconfined' none; with --seccomp_config_dir, a file of that directory (NAME or NAME.json)",
  },
  seccomp_config_dir: {
    type: 'string',
    help: "mesos containerizer: a directory of seccomp profiles in Docker's JSON format (Mesos's flag); --seccomp_profile_name names one, checked when the agent starts",
  },
  oci_root_pool: {
    type: 'number', default: 4,
    help: 'mesos containerizer: container roots (overlay mounts) kept ready per image a task used, so that no mount runs on a launch; refilled in the background, removed when the agent stops (0: none)',
  },
  oci_launch_parallelism: {
    type: 'number',
    help: "mesos containerizer: containers the runtime starts at once; the other tasks of a burst wait, STARTING, in order (a kill takes one out unstarted). Default: eight per cpu",
  },
  docker_registry: {
    type: 'string', default: '/var/lib/mesos-ts/images',
    help: "mesos containerizer: the local directory images come from (Mesos's flag, local form only): <repo>:<tag>/ OCI layouts or <repo>[:<tag>].tar docker archives; nothing is pulled",
  },
  docker_store_dir: { type: 'string', help: "mesos containerizer: where images are unpacked, once per digest (Mesos's flag; default <work_dir>/store/docker)" },
  docker_socket: { type: 'string', default: '/var/run/docker.sock', help: "the Docker engine's socket" },
  docker_default_image: { type: 'string', default: 'mesos-ts/busybox:latest', help: 'image for tasks that name none' },
  docker_pull: { type: 'string', default: 'missing', help: "'missing' pulls an image that is not present; 'never' fails the task instead" },
  docker_pull_timeout: { type: 'duration', default: 60, help: 'a pull taking longer fails the task' },
  kill_grace_period: { type: 'duration', default: 3, help: 'time between SIGTERM and SIGKILL when neither the kill nor the task has a kill policy' },
  max_grpc_message_size: {
    type: 'number', default: DEFAULT_MAX_GRPC_MESSAGE_SIZE,
    help: "largest gRPC message, in bytes, the agent sends or accepts on its link to the master; keep it equal to the master's (default 16 MiB)",
  },
  status_update_retry_interval: { type: 'duration', default: 10, help: 'first resend interval of an unacknowledged status update (doubles up to 10 mins)' },
  recover: {
    type: 'string', default: 'reconnect',
    help: "'reconnect' takes back the tasks an earlier run of this agent left in --work_dir (same AgentID); 'cleanup' kills them all and starts afresh",
  },
  allowed_host_paths: { type: 'string', default: '', help: 'comma-separated host directories tasks may mount (ContainerInfo.volumes); none by default' },
  allow_privileged: { type: 'boolean', default: false, help: 'let tasks that ask for it run privileged containers' },
  switch_user: {
    type: 'boolean', default: true,
    help: 'run each task as its CommandInfo.user, else its FrameworkInfo.user (as Mesos); --no-switch_user runs every task as --default_container_user',
  },
  default_container_user: { type: 'string', default: 'nobody', help: 'user (name or uid[:gid]) of tasks that name none; the image must know a name' },
  allow_root_tasks: { type: 'boolean', default: false, help: 'let a task run as root when its CommandInfo.user (or FrameworkInfo.user) says so' },
  effective_capabilities: {
    type: 'string', default: 'NET_BIND_SERVICE',
    help: 'capabilities every task container keeps, all others dropped: comma-separated, or Mesos\'s JSON {"capabilities":["NET_RAW"]}; empty keeps none',
  },
  drain_timeout: { type: 'duration', default: 600, help: 'on SIGUSR1 (drain), how long tasks may run on before they are killed and the agent exits' },
  gc_delay: { type: 'duration', default: 7 * 24 * 3600, help: "how long a finished task's sandbox is kept (default one week)" },
  sandbox_log_max_size: { type: 'string', default: '10MB', help: "a task's stdout or stderr is rotated when it reaches this size (B, KB, MB, GB; 0 never)" },
  sandbox_log_rotations: { type: 'number', default: 3, help: 'rotated stdout.N / stderr.N files kept per task' },
  pids_limit: { type: 'number', default: 1024, help: 'maximum number of processes in a task container' },
  credential: {
    type: 'string',
    help: 'path to this agent\'s credential for a master with --authenticate_agents (or file://PATH): JSON {"principal":"P","secret":"S"} or a line "principal secret"; never printed',
  },
  ...TLS_FLAGS,
  authenticate_http_readonly: {
    type: 'boolean', default: false, help: 'the read-only HTTP endpoints (/state, /files/read, /flags, /containers, /metrics/snapshot, ...) demand HTTP basic authentication (--http_credentials)',
  },
  authenticate_http_readwrite: { type: 'boolean', default: false, help: 'the agent API (POST /api/v1) demands HTTP basic authentication (--http_credentials)' },
  http_credentials: {
    type: 'string',
    help: 'path to the credentials HTTP callers may present (or file://PATH): JSON {"credentials":[{"principal":"P","secret":"S"}]} or lines "principal secret"; never printed',
  },
  acls: {
    type: 'string',
    help: 'Mesos ACLs (JSON, or a path to it): the agent enforces access_sandboxes (/files/*, READ_FILE, LIST_FILES), get_endpoints and view_flags',
  },
  ...LOG_FLAGS,
} as const satisfies FlagSpecs;

/** A Mesos agent flag not above is refused by name. */
export const AGENT_PARSE: ParseOptions = { mesos: { flags: MESOS_AGENT_FLAGS, refuse: (name) => notImplemented(name, 'agent') } };
