// batch-sleeper: a complete framework in one file, written against the
// low-level SDK so every step is visible. Copy it and change the jobs.
//
// It runs --jobs container tasks that each print a line and sleep, at most
// --concurrency at a time, and relaunches a task that fails, up to --retries
// times. Jobs 4, 8, 12, ... fail on their first attempt on purpose so you can
// watch a retry happen.
//
//   npx tsx framework/examples/batch-sleeper.ts --master 127.0.0.1:5060 [--jobs 12] [--concurrency 4] [--retries 2]
//
// What every framework does:
//   1. subscribe (scheduler.start) and get a FrameworkID;
//   2. answer each offer at once: launch what fits, decline the rest (never sit on offers);
//   3. follow task states in 'update' events (the SDK acknowledges them for you);
//   4. suppress offers while it needs none, revive when it needs them again;
//   5. reconcile after a reconnection, and tear down when finished.
// For a plain "run these tasks to completion" job, framework/sdk/batch.ts does all of this for you.
import { pathToFileURL } from 'node:url';
import { parseFlags, usage } from '../../common/flags.js';
import { errorMessage } from '../../common/errors.js';
import { isTerminal } from '../../common/task-state.js';
import { OfferPacker, Scheduler, dockerTask, parseDemand, type TaskInfoIn } from '../sdk/index.js';

const FLAGS = {
  master: { type: 'string', required: true, help: "the master's gRPC address, HOST:PORT" },
  jobs: { type: 'number', default: 12, help: 'how many jobs to run' },
  concurrency: { type: 'number', default: 4, help: 'most jobs running at once' },
  retries: { type: 'number', default: 2, help: 'relaunches of a failed job' },
  image: { type: 'string', default: 'mesos-ts/busybox:latest', help: 'image with /bin/sh and sleep' },
} as const;

/** One unit of work and where it stands. */
interface Job {
  readonly index: number;
  attempt: number;
  taskId: string | null;
  agentId: string | null;
  state: 'waiting' | 'launched' | 'finished' | 'failed';
}

export async function batchSleeper(argv: string[]): Promise<number> {
  const flags = parseFlags(FLAGS, argv);
  if (flags.help) {
    console.log(usage('batch-sleeper', 'An example framework: sleeping jobs with a concurrency limit and retries.', FLAGS).replace('mesos-ts batch-sleeper', 'npx tsx framework/examples/batch-sleeper.ts'));
    return 0;
  }
  const demand = parseDemand('cpus:0.1;mem:32'); // what each job needs
  const jobs: Job[] = Array.from({ length: flags.jobs }, (_, i) => ({ index: i + 1, attempt: 0, taskId: null, agentId: null, state: 'waiting' }));
  const byTaskId = new Map<string, Job>();
  const count = (state: Job['state']) => jobs.filter((j) => j.state === state).length;

  // A failover timeout > 0 lets the tasks survive while we reconnect after a network blip.
  const scheduler = new Scheduler({
    master: flags.master,
    framework: { name: 'batch-sleeper', failoverTimeoutSeconds: 60, capabilities: ['PARTITION_AWARE'] },
  });
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());

  // Create the iterator before start() so no event is missed.
  const events = scheduler.events({ signal: stop.signal });
  const subscribed = await scheduler.start({ signal: stop.signal });
  console.log(`subscribed as framework ${subscribed.frameworkId}`);
  let suppressed = false;

  for await (const event of events) {
    switch (event.type) {
      case 'offers':
        for (const offer of event.offers) {
          // Pack as many waiting jobs into this offer as fit and the limit allows.
          const packer = OfferPacker.of(offer);
          const tasks: TaskInfoIn[] = [];
          for (const job of jobs) {
            if (job.state !== 'waiting' || count('launched') >= flags.concurrency) continue;
            const resources = packer.take(demand);
            if (!resources) break; // this offer is full
            job.attempt++;
            job.taskId = `sleeper-${job.index}-try${job.attempt}`; // a fresh id per attempt
            job.agentId = offer.agent_id?.value ?? null;
            job.state = 'launched';
            byTaskId.set(job.taskId, job);
            const fail = job.index % 4 === 0 && job.attempt === 1 ? 'yes' : 'no';
            tasks.push(dockerTask({
              taskId: job.taskId, agentId: job.agentId ?? '', resources, image: flags.image,
              command: `echo "job ${job.index}, attempt $ATTEMPT"; if [ "$FAIL" = yes ]; then echo "simulated failure" >&2; exit 1; fi; sleep ${1 + (job.index % 3)}`,
              env: { ATTEMPT: String(job.attempt), FAIL: fail },
            }));
          }
          try {
            // Launch, or decline what we cannot use; the short refuse filter brings the agent back soon.
            if (tasks.length > 0) await scheduler.launch(offer, tasks, { refuseSeconds: 1 });
            else await scheduler.decline(offer, { refuseSeconds: 5 });
          } catch (err) {
            console.log(`offer ${offer.id?.value}: ${errorMessage(err)}`);
            for (const t of tasks) byTaskId.get(t.task_id!.value!)!.state = 'waiting'; // try again on another offer
          }
        }
        break;

      case 'update': {
        const { status } = event;
        const job = byTaskId.get(status.task_id?.value ?? '');
        if (!job || job.taskId !== status.task_id?.value || job.state !== 'launched') break; // stale or unknown
        console.log(`job ${job.index} (${job.taskId}) ${status.state}${status.message ? `: ${status.message}` : ''}`);
        if (!isTerminal(status.state)) break;
        if (status.state === 'TASK_FINISHED') job.state = 'finished';
        else job.state = job.attempt <= flags.retries && status.state !== 'TASK_KILLED' ? 'waiting' : 'failed';
        break;
      }

      case 'reconnected':
        // The master may have news we missed while disconnected: ask for our tasks' states.
        await scheduler.reconcile(jobs.filter((j) => j.state === 'launched').map((j) => ({ taskId: j.taskId!, ...(j.agentId && { agentId: j.agentId }) })));
        break;

      case 'removed':
        console.log(`the master removed this framework: ${event.message}`);
        break;

      default:
        break;
    }

    // Offers only while a job waits and the limit leaves room; otherwise stop them.
    const wantOffers = count('waiting') > 0 && count('launched') < flags.concurrency;
    if (scheduler.state === 'subscribed' && wantOffers === suppressed) {
      suppressed = !wantOffers;
      await (wantOffers ? scheduler.revive() : scheduler.suppress()).catch((err: unknown) => console.log(errorMessage(err)));
    }
    if (count('waiting') + count('launched') === 0) break; // every job ended
  }

  // Teardown kills whatever still runs (after Ctrl-C) and removes the framework.
  if (scheduler.state === 'subscribed') await scheduler.teardown().catch((err: unknown) => console.log(`teardown: ${errorMessage(err)}`));
  else await scheduler.close();
  console.log(`${count('finished')} of ${jobs.length} jobs finished, ${count('failed')} failed`);
  return count('finished') === jobs.length ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await batchSleeper(process.argv.slice(2)).catch((err: unknown) => {
    console.error(`batch-sleeper: ${errorMessage(err)}`);
    return 1;
  });
}
