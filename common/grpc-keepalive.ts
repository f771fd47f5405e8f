// HTTP/2 keepalive for our long-lived gRPC streams (scheduler subscriptions,
// agent links, the operator's event stream). Without it a peer that
// vanishes without closing its socket (a SIGSTOPped process, a host gone
// off the network, a silent NAT) is never noticed: the stream waits forever.
// With it each side pings every `intervalSeconds` and drops the connection
// when a ping goes unanswered for `timeoutSeconds`, so its streams end and
// the usual disconnection path runs. One place for the defaults, which the
// master's --grpc_keepalive_* flags override on the server side.
import { InvalidArgument } from './errors.js';

/** HTTP/2 keepalive of a gRPC connection: a ping every `intervalSeconds`; the connection is dropped when one goes unanswered for `timeoutSeconds`. */
export interface Keepalive {
  /** Seconds between pings (positive). */
  readonly intervalSeconds: number;
  /** Seconds a ping may go unanswered before the connection is dropped (positive). */
  readonly timeoutSeconds: number;
}

/** Defaults: a vanished peer is dropped within 15 + 20 = 35 s (Mesos gives an agent 5 pings of 15 s). */
export const DEFAULT_KEEPALIVE: Keepalive = { intervalSeconds: 15, timeoutSeconds: 20 };

/** grpc-js channel or server options; both settings must be positive (checked, naming `what`). */
export function keepaliveOptions(keepalive: Keepalive = DEFAULT_KEEPALIVE, what = 'keepalive'): Record<string, number> {
  for (const [name, value] of [['interval', keepalive.intervalSeconds], ['timeout', keepalive.timeoutSeconds]] as const) {
    if (!(Number.isFinite(value) && value > 0)) throw new InvalidArgument(`${what} ${name} must be a positive number of seconds, got ${value}`);
  }
  return {
    'grpc.keepalive_time_ms': Math.round(keepalive.intervalSeconds * 1000),
    'grpc.keepalive_timeout_ms': Math.round(keepalive.timeoutSeconds * 1000),
    // Our streams may carry nothing for a while (an idle scheduler between heartbeats): ping anyway.
    'grpc.keepalive_permit_without_calls': 1,
  };
}
