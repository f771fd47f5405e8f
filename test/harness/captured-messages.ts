// Messages as the master hands them to gRPC, taken from a real Master (the
// state-machine harness: no network): OFFERS events to a scheduler, an
// UPDATE event carrying a status with data, and a RunTask to an agent. The
// plain encoder's tests and bench/encode.ts serialize these.
import { Resources } from '../../common/resources.js';
import type { AgentConnection } from '../../master/master.js';
import type { EventIn, MasterMessageIn, OfferIn } from '../../proto/index.js';
import { MasterHarness } from './master-harness.js';

export interface CapturedMessages {
  /** Every OFFERS event the framework got (the master sends at most OFFERS_PER_EVENT offers in one). */
  readonly offerEvents: EventIn[];
  /** Every offer in them, in order. */
  readonly offers: OfferIn[];
  /** The UPDATE event of a TASK_RUNNING status with data bytes and labels, as the scheduler got it. */
  readonly update: EventIn;
  /** The RunTask the agent got for that task. */
  readonly runTask: MasterMessageIn;
}

const RESOURCES = 'cpus:8;mem:16384;disk:100000;ports:[31000-31999,33000-33100]';

/** Registers `agents` agents with attributes, subscribes one framework, launches a task and reports it running. */
export async function captureMasterMessages(agents: number): Promise<CapturedMessages> {
  const h = await MasterHarness.start({ offerTimeout: 0 });
  const received: MasterMessageIn[] = [];
  const ids: string[] = [];
  for (let i = 0; i < agents; i++) {
    const conn: AgentConnection = { open: true, send: (m: MasterMessageIn) => void received.push(m), close: () => undefined } as AgentConnection;
    const agent = await h.master.registerAgent({
      agent_info: {
        hostname: `agent-${i}.example.org`, port: 5051, resources: Resources.parse(RESOURCES).toProto(),
        attributes: [
          { name: 'rack', type: 'TEXT', text: { value: `r${i % 8}` } },
          { name: 'gpu', type: 'SCALAR', scalar: { value: i % 2 } },
        ],
      },
      tasks: [], frameworks: [], version: 'test', ip: `127.0.${i >> 8}.${i & 255}`, secret: '',
    } as never, conn);
    ids.push(agent.id);
  }
  await h.settle();
  const fw = await h.subscribe('capture', { roles: ['*'] });
  await h.settle();
  const offerEvents = fw.events.filter((e) => e.type === 'OFFERS');
  const offers = offerEvents.flatMap((e) => e.offers?.offers ?? []);
  const [first] = offers;
  if (!first) throw new Error(`the master made no offers: ${h.log.slice(-3).join(" | ")}`);
  fw.launch(first, [{ id: 'task-1', resources: 'cpus:1;mem:128;ports:[31000-31001]' }]);
  await h.settle();
  const runTask = received.find((m) => m.run_task);
  if (!runTask) throw new Error('the master sent no RunTask');
  const agentId = first.agent_id!.value!;
  h.master.agentMessage(agentId, {
    kind: 'status_update',
    status_update: {
      framework_id: { value: fw.id },
      status: {
        task_id: { value: 'task-1' }, state: 'TASK_RUNNING', source: 'SOURCE_EXECUTOR', agent_id: { value: agentId }, executor_id: { value: 'task-1' },
        uuid: Buffer.from('0123456789abcdef'), message: 'container started', timestamp: h.time.now(), healthy: true,
        data: Buffer.from(JSON.stringify({ ip: '127.0.0.1', ports: [31000, 31001] })),
        labels: { labels: [{ key: 'container', value: 'mesos-ts-task-1' }] },
        container_status: { network_infos: [{ ip_addresses: [{ ip_address: '127.0.0.1' }] }] },
      },
    },
  } as never);
  await h.settle();
  const update = fw.events.find((e) => e.type === 'UPDATE' && e.update?.status?.state === 'TASK_RUNNING');
  if (!update) throw new Error('the master sent no TASK_RUNNING update');
  await h.master.stop();
  return { offerEvents, offers, update, runTask };
}
