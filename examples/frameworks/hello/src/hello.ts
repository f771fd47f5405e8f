// hello: a whole framework written against the installed package, as an
// author outside this repository writes one. It subscribes, launches
// --tasks command tasks in Docker containers from the offers it gets, waits
// until every task has ended, tears down, and exits 0 only if all FINISHED.
//
//   npm run build && node dist/hello.js --master 127.0.0.1:5060 --tasks 3
import { parseArgs } from 'node:util';
import {
  Scheduler, OfferPacker, dockerTask, parseDemand, allocationRoleOf, isTerminal,
  type OfferOut, type TaskInfoIn, type TaskStatusOut,
} from 'mesos-ts/sdk';

const { values: args } = parseArgs({
  options: {
    master: { type: 'string', default: '127.0.0.1:5060' },
    tasks: { type: 'string', default: '3' },
    image: { type: 'string', default: 'mesos-ts/busybox:latest' },
    command: { type: 'string', default: 'echo hello from $MESOS_TASK_ID' },
    resources: { type: 'string', default: 'cpus:0.1;mem:32' },
    timeout: { type: 'string', default: '60' },
  },
});
const taskCount = Number(args.tasks);
if (!Number.isInteger(taskCount) || taskCount < 1) throw new Error(`--tasks must be a positive integer, got '${args.tasks}'`);
const demand = parseDemand(args.resources);

const waiting = Array.from({ length: taskCount }, (_, i) => `hello-${i + 1}`);
const ended = new Map<string, TaskStatusOut>();

/** As many waiting tasks as fit in the offer; the rest wait for the next one. */
function tasksFor(offer: OfferOut): TaskInfoIn[] {
  const packer = OfferPacker.of(offer);
  const tasks: TaskInfoIn[] = [];
  const role = allocationRoleOf(offer);
  while (waiting.length > 0) {
    const resources = packer.take(demand);
    if (!resources) break;
    tasks.push(dockerTask({
      taskId: waiting.shift()!, agentId: offer.agent_id!.value, resources, image: args.image, command: args.command,
      ...(role && { allocationRole: role }),
    }));
  }
  return tasks;
}

const scheduler = new Scheduler({ master: args.master, framework: { name: 'hello' } });
// Give up (and tear down) if the tasks have not all ended in time.
const signal = AbortSignal.timeout(Number(args.timeout) * 1000);
const events = scheduler.events({ signal }); // before start(): no event is missed
const subscribed = await scheduler.start({ signal });
console.log(`subscribed as framework ${subscribed.frameworkId}`);

try {
  for await (const event of events) {
    if (event.type === 'offers') {
      for (const offer of event.offers) {
        const tasks = tasksFor(offer);
        // Answer every offer at once; a short refusal leaves the agent free for the tasks still waiting.
        if (tasks.length > 0) await scheduler.launch(offer, tasks);
        else await scheduler.decline(offer, { refuseSeconds: waiting.length > 0 ? 1 : 60 });
      }
      if (waiting.length === 0) await scheduler.suppress();
    } else if (event.type === 'update') {
      const { status } = event;
      const taskId = status.task_id?.value ?? '';
      console.log(`task ${taskId} ${status.state}${status.message ? `: ${status.message}` : ''}`);
      if (isTerminal(status.state)) ended.set(taskId, status);
      if (ended.size === taskCount) break;
    } else if (event.type === 'closed') {
      throw new Error(`scheduler closed: ${event.reason?.message ?? 'no reason given'}`);
    }
  }
} finally {
  await scheduler.teardown();
}

const finished = [...ended.values()].filter((s) => s.state === 'TASK_FINISHED').length;
console.log(`${finished} of ${taskCount} task(s) FINISHED`);
process.exitCode = finished === taskCount ? 0 : 1;
