import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.js';
import { Resources } from '../../common/resources.js';
import type { OfferOut } from '../../proto/index.js';
import { BatchPlan } from '../../framework/sdk/batch.js';
import { demoTasks, renderDemo, type DemoView } from '../../framework/examples/demo.js';

describe('demo framework', () => {
  it('has ten short, small, deterministic tasks by default', () => {
    const specs = demoTasks(10, 'mesos-ts/busybox:latest');
    expect(specs.map((s) => s.id)).toEqual(Array.from({ length: 10 }, (_, i) => `demo-${i + 1}`));
    expect(new Set(specs.map((s) => s.demand.resources.toString()))).toEqual(new Set(['cpus:0.1;mem:32', 'cpus:0.2;mem:32']));
    expect(specs[2]!.task.command).toBe('echo "hello from ${MESOS_TASK_ID:-demo-3} on $(hostname)"; sleep 3; echo "demo-3 done after 3s"');
    expect(demoTasks(10, 'x')).toEqual(specs.map((s) => ({ ...s, task: { ...s.task, image: 'x' } })));
  });

  it('renders a header and one row per task', () => {
    const clock = new ManualClock(100);
    const plan = new BatchPlan(demoTasks(3, 'img'), { clock });
    const offer = { id: { value: 'o1' }, agent_id: { value: 'abc-S0' }, hostname: 'h', resources: Resources.parse('cpus:0.3;mem:64').toProto(), allocation_info: null } as unknown as OfferOut;
    plan.offers([offer]);
    clock.advance(2.5);
    const view: DemoView = { frameworkId: 'abc-0000', connection: 'subscribed', tasks: plan.views(), summary: plan.summary(), startedAt: 99, now: clock.now(), done: false };
    const text = renderDemo(view);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('framework abc-0000 · 4s · 0/3 finished · 2 active · 1 waiting for offers');
    expect(lines[1]).toMatch(/^\s+TASK\s+STATE\s+AGENT\s+RESOURCES\s+TIME$/);
    expect(lines[2]).toMatch(/^\s+demo-1\s+STAGING\s+S0\s+cpus:0.1;mem:32\s+2.5s$/);
    expect(lines[4]).toMatch(/^\s+demo-3\s+PENDING\s+-\s+-\s+-$/);
    expect(renderDemo(view, { color: true })).toContain('\x1b[33mSTAGING');
  });
});
