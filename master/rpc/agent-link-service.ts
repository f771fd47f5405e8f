// The AgentLink gRPC service: one bidirectional stream per agent. The first
// message must be RegisterAgent; afterwards status updates and pongs flow
// up and the master's messages flow down. The master pings on an interval
// (its deadlines) and drops an agent that misses too many pongs in a row.
import type { ServerDuplexStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { AgentMessageOut, MasterMessageIn } from '../../proto/index.js';
import { errorMessage, PermissionDenied } from '../../common/errors.js';
import { toServiceError } from '../../common/grpc-status.js';
import { traceLaunch, tracingLaunches } from '../../common/launch-trace.js';
import type { Master } from '../master.js';
import type { AgentConnection } from '../master.js';
import { MalformedMessage } from './safe-service.js';
import { writeWaitingTogether } from '../../common/grpc-batched-writes.js';
import { AgentGone } from '../operations/agents.js';

type Stream = ServerDuplexStream<AgentMessageOut | MalformedMessage, MasterMessageIn>;

/**
 * `ready` settles once a just-elected master has taken over its registry: a
 * registration arriving meanwhile waits. `refusal` says why the ACLs refuse
 * this link's agent (register_agents), or null: a refused link ends with
 * PERMISSION_DENIED before any message is read, and the agent retries.
 */
export function agentLinkService(
  leader: () => Master, ready: () => Promise<void> = async () => {}, refusal: (stream: object) => string | null = () => null,
): UntypedServiceImplementation {
  return {
    Connect: (stream: Stream) => {
      const refused = refusal(stream);
      if (refused !== null) return void stream.emit('error', toServiceError(new PermissionDenied(refused)));
      connect(leader, ready, stream);
    },
  };
}

function connect(leader: () => Master, ready: () => Promise<void>, stream: Stream): void {
  writeWaitingTogether(stream);
  let agentId: string | null = null;
  let master: Master | null = null;
  let open = true;
  let registering = false;

  const conn: AgentConnection = {
    get open() {
      return open;
    },
    send(message) {
      if (message.run_task) traceLaunch(message.run_task.task?.task_id?.value, 'master: RunTask sent');
      else if (message.acknowledgement) traceLaunch(message.acknowledgement.task_id?.value, 'master: acknowledgement sent');
      if (open) stream.write(message);
    },
    close(reason) {
      if (!open) return;
      finish();
      stream.write({ refused: { message: reason } });
      stream.end();
    },
  };
  const finish = () => {
    if (!open) return;
    open = false;
    try {
      if (master && agentId) master.agentDisconnected(agentId, conn);
    } catch (err) {
      // A bug here must not take the master down with it.
      master?.logger.error({ agent_id: agentId, err }, `error while disconnecting agent ${agentId}: ${errorMessage(err)}`);
    }
  };
  const endWith = (last: MasterMessageIn) => {
    const wasOpen = open;
    finish();
    if (!wasOpen) return;
    stream.write(last);
    stream.end();
  };
  const refuse = (message: string) => endWith({ refused: { message } });
  // A gone agent still runs its tasks: refused, it would retry forever and keep them running; told to shut down, it kills them.
  const shutDown = (message: string) => endWith({ shutdown: { message } });

  stream.on('data', (message: AgentMessageOut | MalformedMessage) => {
    if (!open) return;
    if (message instanceof MalformedMessage) return refuse(message.reason);
    try {
      if (agentId === null) {
        if (registering) return; // Nothing else is expected before the master answers the registration.
        if (message.kind !== 'register' || !message.register) return refuse('the first message on an agent link must be RegisterAgent');
        const register = message.register;
        registering = true;
        // Registration waits for the registry; the master notices itself if the link goes meanwhile.
        ready().then(() => {
          if (!open) return null;
          master = leader();
          return master.registerAgent(register, conn);
        }).then(
          (agent) => {
            if (agent) agentId = agent.id;
          },
          (err: unknown) => (err instanceof AgentGone ? shutDown(err.message) : refuse(errorMessage(err))),
        );
        return;
      }
      const status = message.status_update?.status;
      if (status && tracingLaunches()) traceLaunch(status.task_id?.value, `master: ${status.state} received`);
      // A message that may change state is a call the leader accepts (and logs, --log_accepted_calls);
      // a master no longer leading refuses it, and the agent finds the leader. A pong changes nothing.
      if (message.kind !== 'pong') master = leader();
      master!.agentMessage(agentId, message, conn);
    } catch (err) {
      refuse(errorMessage(err));
    }
  });
  stream.on('end', () => {
    finish();
    stream.end();
  });
  stream.on('error', () => finish());
  stream.on('cancelled', () => finish());
}
