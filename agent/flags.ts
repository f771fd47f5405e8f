// The agent's flags, named as Apache Mesos names them where Mesos has them.
import type { FlagSpecs } from '../common/flags.js';

export const AGENT_FLAGS = {
  master: { type: 'string', required: true, help: "the master's gRPC address, host:port" },
  ip: { type: 'string', default: '127.0.0.1', help: 'IP address to listen on (HTTP)' },
  port: { type: 'number', default: 5051, help: 'HTTP port (/state, /health); 0 picks a free port' },
  hostname: { type: 'string', help: 'hostname to advertise (default: the --ip)' },
  work_dir: { type: 'string', default: '/tmp/mesos-ts/agent', help: 'directory for sandboxes (task stdout/stderr)' },
  resources: {
    type: 'string', help: "resources to offer, e.g. 'cpus:2;mem:1024;disk:4096;ports:[31000-32000]' (default: detected from the machine)",
  },
  attributes: { type: 'string', default: '', help: "attributes, e.g. 'rack:r1;zone:a'" },
  docker_socket: { type: 'string', default: '/var/run/docker.sock', help: "the Docker engine's socket" },
  docker_default_image: { type: 'string', default: 'mesos-ts/busybox:latest', help: 'image for tasks that name none' },
  docker_pull: { type: 'string', default: 'missing', help: "pull images that are not present: 'missing' or 'never'" },
  docker_pull_timeout: { type: 'duration', default: 60, help: 'a pull taking longer fails the task' },
  kill_grace_period: { type: 'duration', default: 3, help: 'time between SIGTERM and SIGKILL when a task has no kill policy' },
  status_update_retry_interval: { type: 'duration', default: 10, help: 'first resend interval of unacknowledged status updates (doubles)' },
  pids_limit: { type: 'number', default: 1024, help: 'maximum processes in a task container' },
  quiet: { type: 'boolean', default: false, help: 'log nothing but errors' },
} as const satisfies FlagSpecs;
