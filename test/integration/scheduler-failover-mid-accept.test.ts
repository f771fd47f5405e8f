// A scheduler process SIGKILLed in the middle of an ACCEPT: the master has
// taken the call, the task is on its way to the agent, and the scheduler dies
// before it has acknowledged a single update. Its successor subscribes with
// the same FrameworkID (within failover_timeout), and reconciliation tells it
// about the task; a successor that launches the same TaskID again anyway (a
// naive retry of the unanswered ACCEPT) is refused. Exactly one container
// ever runs for that TaskID. The master runs in this process, the agent and
// the first scheduler (test/fixtures/schedulers/accept-and-hang.ts) as real
// processes, the task on the shared Docker engine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startMaster, type RunningMaster } from '../../master/main.js';
import { ProcessGroup, type AgentProc } from '../harness/processes.js';
import { freePort } from '../harness/zookeeper.js';
import { RawScheduler, commandTask } from '../harness/grpc-scheduler.js';
import { containersUnder } from '../harness/cluster.js';
import { waitUntil } from '../harness/wait-until.js';
import type { EventOut } from '../../proto/index.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/schedulers/accept-and-hang.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));
let group: ProcessGroup;
let master: RunningMaster;
let grpcPort: number;
let agent: AgentProc;
let child: ChildProcess | null = null;
let successor: RawScheduler | null = null;

beforeAll(async () => {
  group = new ProcessGroup();
  grpcPort = await freePort();
  master = await startMaster({ port: 0, grpc_port: grpcPort, allocation_interval: 0.1 }, () => {});
  agent = await group.spawnAgent('agent', [`--master=127.0.0.1:${grpcPort}`, '--resources=cpus:2;mem:512;disk:100;ports:[31960-31964]', '--status_update_retry_interval=0.5s']);
}, 60_000);

afterAll(async () => {
  if (child?.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  successor?.close();
  await master?.stop();
  await group?.stopAll();
}, 60_000);

const update = (taskId: string, pred: (s: NonNullable<NonNullable<EventOut['update']>['status']>) => boolean) => (e: EventOut) =>
  e.type === 'UPDATE' && e.update?.status?.task_id?.value === taskId && pred(e.update.status);

describe('a scheduler SIGKILLed in the middle of an ACCEPT', () => {
  it('fails over with the same FrameworkID, learns the task by reconciliation, and never runs it twice', async () => {
    let agentId = '';
    await waitUntil(() => (agentId = [...master.master.agents.values()].find((a) => a.connected && a.info.port === agent.httpPort)?.id ?? '') !== '', 30_000, 'the agent to register');

    child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, `127.0.0.1:${grpcPort}`, agentId, 'only-once'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    const exited = new Promise<void>((resolve) => child!.once('exit', () => resolve()));
    const accepted = new Promise<void>((resolve, reject) => {
      createInterface({ input: child!.stdout! }).on('line', (line) => {
        lines.push(line);
        // Killed the moment the master has answered the ACCEPT, before the scheduler sees or acknowledges anything.
        if (line === 'accepted') (child!.kill('SIGKILL'), resolve());
      });
      createInterface({ input: child!.stderr! }).on('line', (line) => lines.push(line));
      void exited.then(() => reject(new Error(`the scheduler exited before accepting:\n${lines.join('\n')}`)));
    });
    await accepted;
    await exited;
    const frameworkId = lines.find((l) => l.startsWith('framework '))!.slice('framework '.length);
    expect(frameworkId).not.toBe('');

    successor = new RawScheduler(`127.0.0.1:${grpcPort}`);
    successor.autoAcknowledge = true;
    const subscribed = await successor.subscribe({ id: { value: frameworkId }, name: 'accept-and-hang', user: 'root', failover_timeout: 600 });
    expect(subscribed.subscribed?.framework_id?.value).toBe(frameworkId);

    await successor.call('Reconcile', { type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 'only-once' }, agent_id: { value: agentId } }] } });
    const answer = (await successor.next(update('only-once', (s) => s.reason === 'REASON_RECONCILIATION'), 30_000)).update!.status!;
    expect(['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING']).toContain(answer.state);
    // The updates the dead scheduler never acknowledged come to its successor.
    await successor.next(update('only-once', (s) => s.state === 'TASK_RUNNING' && s.reason !== 'REASON_RECONCILIATION'), 30_000);

    // A naive retry of the ACCEPT with a fresh offer is refused: the TaskID is taken.
    const offer = (await successor.next((e) => e.type === 'OFFERS' && e.offers!.offers.some((o) => o.agent_id?.value === agentId), 30_000)).offers!.offers[0]!;
    await successor.launch(offer, [commandTask('only-once', offer, 'sleep 600')]);
    const refused = (await successor.next(update('only-once', (s) => s.state !== 'TASK_RUNNING' && s.state !== 'TASK_STARTING' && s.state !== 'TASK_STAGING'), 30_000)).update!.status!;
    expect(refused).toMatchObject({ state: 'TASK_ERROR', reason: 'REASON_TASK_INVALID' });
    expect(refused.message).toContain('already in use');

    const containers = (await containersUnder(agent.workDir)).filter((c) => c.Labels['mesos-ts.task_id'] === 'only-once');
    expect(containers.map((c) => c.State)).toEqual(['running']);
    const state = (await fetch(`http://${master.httpAddress}/state`).then((r) => r.json())) as { frameworks: { id: string; tasks: { id: string; state: string }[] }[] };
    const tasks = state.frameworks.find((f) => f.id === frameworkId)?.tasks ?? [];
    expect(tasks.filter((t) => t.id === 'only-once').map((t) => t.state)).toEqual(['TASK_RUNNING']);
  }, 120_000);
});
