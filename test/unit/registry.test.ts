// The registry's model and its write batching, over the in-memory store.
import { describe, expect, it } from 'vitest';
import { InMemoryStore, MAX_REMOVED_FRAMEWORKS, Registry } from '../../master/registry/registry.js';
import { CountingStore } from '../harness/counting-store.js';
import type { AgentInfoOut, FrameworkInfoOut } from '../../proto/index.js';
import { createLogger } from '../../common/log/logger.js';

const agentInfo = (host: string) => ({ hostname: host, resources: [], attributes: [] }) as unknown as AgentInfoOut;
const frameworkInfo = (name: string) => ({ name, user: 'u', failover_timeout: 5, capabilities: [], roles: [] }) as unknown as FrameworkInfoOut;
const task = (fw: string, id: string) => ({ framework_id: fw, task_id: id, name: id, resources: 'cpus:0.1;mem:32' });

describe('Registry', () => {
  it('groups the changes of one tick into one write, and those made during a write into the next', async () => {
    const store = new CountingStore();
    const registry = new Registry(store);
    const first = [registry.admitAgent('a1', agentInfo('h1'), 1), registry.admitAgent('a2', agentInfo('h2'), 1), registry.putFramework('f1', frameworkInfo('f'), 1)];
    await Promise.resolve(); // The first write is under way.
    const second = [registry.addTasks('a1', [task('f1', 't1'), task('f1', 't2')]), registry.addTasks('a2', [task('f1', 't3')])];
    await Promise.all([...first, ...second]);
    // The tasks go to one journal entry (task-journal.ts), not to their agents' entries.
    expect(store.batches.map((b) => b.map((c) => c.key).sort())).toEqual([['agents/a1', 'agents/a2', 'frameworks/f1'], ['journal/1']]);
    const entry = store.batches[1]![0]!.value as { agents: Record<string, { put: { task_id: string }[] }> };
    expect(entry.agents.a1!.put.map((t) => t.task_id)).toEqual(['t1', 't2']);
    expect(entry.agents.a2!.put.map((t) => t.task_id)).toEqual(['t3']);
  });

  it('writes nothing for a change that changes nothing, yet waits for the write in flight', async () => {
    const store = new CountingStore();
    const registry = new Registry(store);
    void registry.admitAgent('a1', agentInfo('h1'), 1);
    const again = registry.addTasks('a1', []);
    await again;
    expect(store.batches).toHaveLength(1);
    await registry.removeTask('a1', 'f', 'unknown');
    expect(store.batches).toHaveLength(1);
  });

  it('re-admits an agent it holds unchanged without a write, and writes one whose info, address or reachability changed', async () => {
    const store = new CountingStore();
    const registry = new Registry(store);
    await registry.admitAgent('a1', agentInfo('h1'), 1, '127.0.0.1', 'hash');
    expect(store.batches).toHaveLength(1);
    await registry.admitAgent('a1', agentInfo('h1'), 2, '127.0.0.1'); // A failover's re-registration: the same info, no new secret.
    await registry.admitAgent('a1', agentInfo('h1'), 3, '127.0.0.1', 'hash');
    expect(store.batches).toHaveLength(1);
    await registry.admitAgent('a1', agentInfo('h1'), 4, '127.0.0.2');
    await registry.admitAgent('a1', agentInfo('h2'), 5, '127.0.0.2');
    await registry.markAgentUnreachable('a1', 6);
    await registry.admitAgent('a1', agentInfo('h2'), 7, '127.0.0.2');
    await registry.admitAgent('a1', agentInfo('h2'), 8, '127.0.0.2', 'new-hash');
    expect(store.batches).toHaveLength(6); // The first, then the address, the info, unreachable, reachable again, the secret.
    expect(store.batches.at(-1)![0]!.value).toMatchObject({ ip: '127.0.0.2', unreachable_time: null, secret_hash: 'new-hash', info: { hostname: 'h2' } });
  });

  it('re-admits an unchanged agent only after the write in flight that admitted it', async () => {
    const store = new CountingStore();
    const registry = new Registry(store);
    const order: string[] = [];
    void registry.admitAgent('a1', agentInfo('h1'), 1).then(() => order.push('admitted'));
    await registry.admitAgent('a1', agentInfo('h1'), 2).then(() => order.push('re-admitted'));
    expect(order).toEqual(['admitted', 're-admitted']);
    expect(store.batches).toHaveLength(1);
  });

  it('recovers what another registry wrote, marking unreachable and gone agents and removed frameworks', async () => {
    const store = new InMemoryStore();
    const writer = new Registry(store);
    await writer.admitAgent('a1', agentInfo('h1'), 10);
    await writer.addTasks('a1', [task('f1', 't1')]);
    await writer.admitAgent('a2', agentInfo('h2'), 10);
    await writer.markAgentUnreachable('a2', 20);
    await writer.admitAgent('a3', agentInfo('h3'), 10);
    await writer.addTasks('a3', [task('f1', 't9')]);
    await writer.markAgentGone('a3', 30);
    await writer.putFramework('f1', frameworkInfo('one'), 5);
    await writer.putFramework('f2', frameworkInfo('two'), 5);
    await writer.removeFramework('f2', 40);

    const reader = new Registry(store);
    await reader.recover();
    expect([...reader.agents.get('a1')!.tasks.keys()]).toEqual(['f1/t1']);
    expect(reader.agents.get('a2')!.unreachable_time).toBe(20);
    expect(reader.agents.get('a3')).toMatchObject({ gone_time: 30 });
    expect(reader.agents.get('a3')!.tasks.size).toBe(0);
    expect(reader.frameworks.get('f1')).toMatchObject({ registered_time: 5, removed_time: null });
    expect(reader.frameworks.get('f2')!.removed_time).toBe(40);
  });

  it('skips entries that do not parse, naming them', async () => {
    const store = new InMemoryStore();
    await store.write([
      { key: 'agents/ok', value: { info: agentInfo('h'), registered_time: 1, tasks: [] } },
      { key: 'agents/bad', value: { registered_time: 1 } },
      { key: 'frameworks/bad', value: { info: 42 } },
    ]);
    const warnings: string[] = [];
    const registry = new Registry(store, () => {}, createLogger({ component: 'registry', sink: (line) => warnings.push(line) }));
    await registry.recover();
    expect([...registry.agents.keys()]).toEqual(['ok']);
    expect(registry.frameworks.size).toBe(0);
    expect(warnings).toEqual([expect.stringContaining('agents/bad'), expect.stringContaining('frameworks/bad')]);
  });

  it('forgets the oldest removed frameworks beyond its bound, never a live one', async () => {
    const registry = new Registry(new InMemoryStore());
    await registry.putFramework('live', frameworkInfo('live'), 0);
    for (let i = 0; i <= MAX_REMOVED_FRAMEWORKS; i++) {
      void registry.putFramework(`gone-${i}`, frameworkInfo('g'), i);
      void registry.removeFramework(`gone-${i}`, 100 + i);
    }
    await registry.putFramework('live', frameworkInfo('live'), 0);
    expect(registry.frameworks.has('gone-0')).toBe(false);
    expect(registry.frameworks.has('gone-1')).toBe(true);
    expect(registry.frameworks.has('live')).toBe(true);
    expect(registry.frameworks.size).toBe(MAX_REMOVED_FRAMEWORKS + 1);
  });
});
