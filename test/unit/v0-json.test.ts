// The pure parts of the master's v0 JSON: resources as Mesos writes them
// (src/common/http.cpp json(Resources), stringify(Value::Ranges)), flags as
// stout prints them, /master/tasks' query, order and paging
// (Master::ReadOnlyHandler::tasks), state-summary, task statuses and the
// task JSON kept between builds.
import { describe, expect, it } from 'vitest';
import { Resources } from '../../common/resources.js';
import { quantitiesJson, quantitiesJsonOf, quantitiesJsonOfBoth, rangesText, reservedJson, resourcesFullJson, resourcesJson, resourcesJsonOf, resourcesJsonOfBoth, setText } from '../../master/v0/resources-json.js';
import { durationText, flagsJson } from '../../master/v0/flags-json.js';
import { orderTasks, readTaskQuery, stateSummary, tasks, TASK_LIMIT } from '../../master/v0/views.js';
import type { V0Model } from '../../master/v0/model.js';

describe('resources as v0 JSON', () => {
  it('writes ranges and sets as Mesos stringifies them', () => {
    expect(rangesText([[31000, 31005]])).toBe('[31000-31005]');
    expect(rangesText([[1, 2], [5, 5]])).toBe('[1-2, 5-5]');
    expect(rangesText([])).toBe('[]');
    expect(setText(['a', 'b'])).toBe('{a, b}');
  });

  it('sums each name over roles, and always writes cpus, gpus, mem and disk', () => {
    const r = Resources.parse('cpus:1;cpus(web):0.5;mem(web):128;ports:[31000-31005];ports(web):[32000-32001];disks:{a,b}');
    expect(resourcesJson(r)).toEqual({ cpus: 1.5, gpus: 0, mem: 128, disk: 0, ports: '[31000-31005, 32000-32001]', disks: '{a, b}' });
    expect(resourcesJson(Resources.EMPTY)).toEqual({ cpus: 0, gpus: 0, mem: 0, disk: 0 });
    expect(resourcesJson(Resources.parse('cpus:0.1;cpus(a):0.2'))).toEqual({ cpus: 0.3, gpus: 0, mem: 0, disk: 0 }); // not 0.30000000000000004
  });

  it('lists reservations by role, and full Resource messages with role and reservations', () => {
    const r = Resources.parse('cpus:1;cpus(web):0.5;ports(web):[1-2]');
    expect(reservedJson(r)).toEqual({ web: { cpus: 0.5, gpus: 0, mem: 0, disk: 0, ports: '[1-2]' } });
    expect(resourcesFullJson(r)).toEqual([
      { name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, role: '*' },
      { name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 }, role: 'web', reservations: [{ type: 'STATIC', role: 'web' }] },
      { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 1, end: 2 }] }, role: 'web', reservations: [{ type: 'STATIC', role: 'web' }] },
    ]);
  });

  it('counts quantities as ResourceQuantities does: ranges and sets by their number of values', () => {
    expect(quantitiesJson(Resources.parse('cpus:1;cpus(a):1;ports:[1-10,20-20];disks:{a,b}'))).toEqual({ cpus: 2, ports: 11, disks: 2 });
    expect(quantitiesJson(Resources.EMPTY)).toEqual({});
  });

  it('writes two lists and both in a row as one sum over each would, byte for byte', () => {
    const texts = ['cpus:0.1;mem:32;ports:[31000-31010]', 'cpus(web):0.7;ports:[31005-31020,5-9]', 'disks:{y,x};mem:0.001', 'ports:[31000-31001]', 'cpus:0.2;disks:{z,x}', 'gpus:1'];
    const list = (n: number, k: number) => Array.from({ length: n }, (_, i) => Resources.parse(texts[(i * k) % texts.length]!));
    for (const [first, then] of [[list(40, 5), list(30, 7)], [[], list(3, 1)], [list(3, 1), []], [[], []]] as const) {
      const json = resourcesJsonOfBoth(first, then);
      expect(JSON.stringify(json.first)).toBe(JSON.stringify(resourcesJsonOf(first)));
      expect(JSON.stringify(json.then)).toBe(JSON.stringify(resourcesJsonOf(then)));
      expect(JSON.stringify(json.both)).toBe(JSON.stringify(resourcesJsonOf([...first, ...then])));
      const quantities = quantitiesJsonOfBoth(first, then);
      expect(JSON.stringify(quantities.first)).toBe(JSON.stringify(quantitiesJsonOf(first)));
      expect(JSON.stringify(quantities.then)).toBe(JSON.stringify(quantitiesJsonOf(then)));
      expect(JSON.stringify(quantities.both)).toBe(JSON.stringify(quantitiesJsonOf([...first, ...then])));
    }
    // Ranges already held are skipped, the rest merged as unionRanges merges them.
    expect(resourcesJsonOf(list(12, 1)).ports).toBe('[5-9, 31000-31020]');
  });
});

describe('flags as v0 JSON', () => {
  it('prints durations as stout does', () => {
    expect(durationText(1)).toBe('1secs');
    expect(durationText(15)).toBe('15secs');
    expect(durationText(600)).toBe('10mins');
    expect(durationText(90)).toBe('1.5mins');
    expect(durationText(14 * 24 * 3600)).toBe('2weeks');
    expect(durationText(0.5)).toBe('500ms');
    expect(durationText(0)).toBe('0ns');
  });

  it('writes every flag with a value as a string, and leaves out those without', () => {
    const specs = { port: { type: 'number', help: '' }, zk: { type: 'string', help: '' }, quiet: { type: 'boolean', help: '' }, offer_timeout: { type: 'duration', help: '' } } as const;
    expect(flagsJson(specs, { port: 5050, quiet: false, offer_timeout: 30, zk: undefined })).toEqual({ port: '5050', quiet: 'false', offer_timeout: '30secs' });
  });
});

describe('/master/tasks', () => {
  const task = (id: string, timestamp?: number) => ({ id, framework_id: 'f', statuses: timestamp === undefined ? [] : [{ state: 'TASK_RUNNING', timestamp }] });

  it('reads the query as Mesos does: defaults for what is not a number, des unless asc', () => {
    expect(readTaskQuery(new URLSearchParams(''))).toEqual({ limit: TASK_LIMIT, offset: 0, order: 'des', frameworkId: null, taskId: null });
    expect(readTaskQuery(new URLSearchParams('limit=5&offset=2&order=asc&framework_id=f&task_id=t'))).toEqual({ limit: 5, offset: 2, order: 'asc', frameworkId: 'f', taskId: 't' });
    expect(readTaskQuery(new URLSearchParams('limit=x&offset=-1&order=up'))).toMatchObject({ limit: TASK_LIMIT, offset: 0, order: 'des' });
  });

  it('orders by the first status timestamp; tasks without a status first when ascending, last when descending', () => {
    const list = [task('b', 2), task('none'), task('a', 1), task('c', 3)];
    expect(orderTasks(list, 'asc').map((t) => t.id)).toEqual(['none', 'a', 'b', 'c']);
    expect(orderTasks(list, 'des').map((t) => t.id)).toEqual(['c', 'b', 'a', 'none']);
  });

  it('filters, then pages with offset and limit', () => {
    const model = {
      state: { frameworks: [{ tasks: [task('a', 1), task('b', 2)], unreachable_tasks: [], completed_tasks: [task('c', 3)] }], completed_frameworks: [] },
    } as unknown as V0Model;
    const ids = (query: string) => (tasks(model, readTaskQuery(new URLSearchParams(query))).tasks as { id: string }[]).map((t) => t.id);
    expect(ids('')).toEqual(['c', 'b', 'a']);
    expect(ids('order=asc&offset=1&limit=1')).toEqual(['b']);
    expect(ids('offset=5')).toEqual([]);
    expect(ids('task_id=b')).toEqual(['b']);
    expect(ids('framework_id=other')).toEqual([]);
  });
});

describe('/master/state-summary', () => {
  it("counts each framework's and agent's tasks by state, and names which run where", () => {
    const t = (id: string, state: string, slave_id: string) => ({ id, state, slave_id, statuses: [] });
    const model = {
      state: {
        hostname: 'm',
        slaves: [{ id: 'a1', active: true }, { id: 'a2', active: true }],
        frameworks: [
          { id: 'f1', name: 'one', tasks: [t('x', 'TASK_RUNNING', 'a1'), t('y', 'TASK_RUNNING', 'a2')], unreachable_tasks: [], completed_tasks: [t('z', 'TASK_FINISHED', 'a1')], offers: [] },
          { id: 'f2', name: 'two', tasks: [], unreachable_tasks: [], completed_tasks: [] },
        ],
        completed_frameworks: [],
      },
    } as unknown as V0Model;
    const summary = stateSummary(model) as { slaves: Record<string, unknown>[]; frameworks: Record<string, unknown>[] };
    expect(summary.frameworks[0]).toMatchObject({ id: 'f1', name: 'one', TASK_RUNNING: 2, TASK_FINISHED: 1, TASK_LOST: 0, slave_ids: ['a1', 'a2'] });
    expect(summary.frameworks[0]).not.toHaveProperty('tasks'); // json(Summary<Framework>) only
    expect(summary.frameworks[1]).toMatchObject({ TASK_RUNNING: 0, slave_ids: [] });
    expect(summary.slaves[0]).toMatchObject({ id: 'a1', TASK_RUNNING: 1, TASK_FINISHED: 1, framework_ids: ['f1'] });
    expect(summary.slaves[1]).toMatchObject({ id: 'a2', TASK_RUNNING: 1, TASK_FINISHED: 0, framework_ids: ['f1'] });
  });
});

describe('Task.statuses as the master keeps them', () => {
  it('appends a status of a new state, replaces one of the same state as the last', async () => {
    const { setStatus } = await import('../../master/operations/task-changes.js');
    const task = { status: null } as unknown as Parameters<typeof setStatus>[0];
    setStatus(task, { state: 'TASK_STARTING', timestamp: 1 });
    setStatus(task, { state: 'TASK_RUNNING', timestamp: 2 });
    setStatus(task, { state: 'TASK_RUNNING', timestamp: 3, healthy: true });
    setStatus(task, { state: 'TASK_FINISHED', timestamp: 4 });
    expect(task.statuses!.map((s) => [s.state, s.timestamp])).toEqual([['TASK_STARTING', 1], ['TASK_RUNNING', 3], ['TASK_FINISHED', 4]]);
    expect(task.status).toMatchObject({ state: 'TASK_FINISHED' });
  });
});

describe('task JSON kept between builds', () => {
  it('is written again only when the task changes state or status', async () => {
    const { TaskJsonCache } = await import('../../master/v0/writers.js');
    const cache = new TaskJsonCache();
    const resources = Resources.parse('cpus:1');
    const task = {
      frameworkId: 'f', agentId: 'a', taskId: 't', info: { name: 't', resources: resources.toProto() }, resources, state: 'TASK_STAGING', status: null,
      statusUuid: null, recovered: false, createdAt: 0,
    } as unknown as Parameters<typeof cache.get>[0];
    const first = cache.get(task, undefined);
    expect(cache.get(task, undefined)).toBe(first);
    task.state = 'TASK_RUNNING';
    task.status = { state: 'TASK_RUNNING', timestamp: 5 };
    const next = cache.get(task, undefined);
    expect(next).not.toBe(first);
    expect(next).toMatchObject({ state: 'TASK_RUNNING', statuses: [{ state: 'TASK_RUNNING', timestamp: 5 }], role: '*' });
  });
});

describe('task JSON as Mesos writes it', () => {
  it('writes discovery and network_infos without the empty strings a decoded message carries for unset fields', async () => {
    const { taskJson } = await import('../../master/v0/writers.js');
    const resources = Resources.parse('cpus:1;ports:[31750-31750]');
    const discovery = { visibility: 'FRAMEWORK', name: 'storefront', environment: '', location: '', version: '', ports: { ports: [{ number: 31750, name: 'http', protocol: 'tcp' }] } };
    const status = {
      state: 'TASK_RUNNING', timestamp: 5,
      container_status: { container_id: { value: 'c1' }, network_infos: [{ name: '', ip_addresses: [{ protocol: 'IPv4', ip_address: '127.0.0.1' }] }] },
    };
    const task = {
      frameworkId: 'f', agentId: 'a', taskId: 't', info: { name: 't', resources: resources.toProto(), discovery }, resources, state: 'TASK_RUNNING', status,
      statusUuid: null, recovered: false, createdAt: 0,
    } as unknown as Parameters<typeof taskJson>[0];
    const json = taskJson(task, undefined) as { discovery: unknown; statuses: { container_status: unknown }[] };
    expect(json.discovery).toEqual({ visibility: 'FRAMEWORK', name: 'storefront', ports: { ports: [{ number: 31750, name: 'http', protocol: 'tcp' }] } });
    expect(json.statuses[0]!.container_status).toEqual({
      container_id: { value: 'c1' }, network_infos: [{ ip_addresses: [{ protocol: 'IPv4', ip_address: '127.0.0.1' }] }],
    });
  });
});
