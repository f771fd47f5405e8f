// GET_STATE's JSON answer, built incrementally. Encoding the whole answer
// through protobufjs (fromObject, toObject, stringify) cost about 220 ms of
// the event loop at 10,000 tasks, plus 75 ms building the task views, and a
// worker thread would not have saved much: structured-cloning the views to
// it cost 130 ms on the loop. Tasks are nearly all of the answer and few
// change between two requests, so each task's JSON (as UTF-8) is kept until its
// state or status changes (as v0/writers.ts's TaskJsonCache does for
// /master/state) and the answer is spliced from those texts. Frameworks and
// agents are encoded whole each time. The text is exactly what
// encodeMessage writes for the same answer (test/unit/state-json.test.ts).
import { protoRoot } from '../../proto/index.js';
import type { Master } from '../master.js';
import type { TaskRecord } from '../state/records.js';
import { getAgents, getFrameworks, taskView } from './views.js';

const TASK = protoRoot.lookupType('mesos.v1.Task');
const GET_TASKS = protoRoot.lookupType('mesos.v1.master.Response.GetTasks');
/** GetTasks's lists in the order protobufjs writes fields: by field number. */
const TASK_LISTS = [...GET_TASKS.fieldsArray].sort((a, b) => a.id - b.id).map((f) => f.name);
const GET_FRAMEWORKS = protoRoot.lookupType('mesos.v1.master.Response.GetFrameworks');
const GET_AGENTS = protoRoot.lookupType('mesos.v1.master.Response.GetAgents');
const JSON_OPTIONS = { enums: String, longs: Number, bytes: String, defaults: false } as const;

const text = (s: string) => Buffer.from(s, 'utf8');
const COMMA = text(',');
const CLOSE = text(']');

export class GetStateJson {
  private readonly tasks = new WeakMap<TaskRecord, { state: unknown; status: unknown; json: Buffer }>();

  constructor(private readonly master: Master) {}

  /** The Response to GET_STATE as JSON, as encodeMessage(Response, {type, get_state}, 'json') writes it. */
  encode(): Buffer {
    const master = this.master;
    const running: Buffer[] = [];
    const unreachable: Buffer[] = [];
    for (const t of master.tasks.all()) (t.state === 'TASK_UNREACHABLE' ? unreachable : running).push(this.task(t));
    const byName: Record<string, Buffer[]> = { tasks: running, unreachable_tasks: unreachable, completed_tasks: master.tasks.completedTasks().map((t) => this.task(t)) };
    // Copied once into the answer: joining the texts as strings and encoding the result cost more than the rest together.
    const parts: Buffer[] = [text('{"type":"GET_STATE","get_state":{"get_tasks":{')];
    for (const name of TASK_LISTS) {
      const list = byName[name];
      if (!list?.length) continue; // Empty lists are left out.
      parts.push(text(`${parts.length > 1 ? ',' : ''}"${name}":[`));
      list.forEach((json, i) => (i > 0 ? parts.push(COMMA, json) : parts.push(json)));
      parts.push(CLOSE);
    }
    const frameworks = JSON.stringify(GET_FRAMEWORKS.toObject(GET_FRAMEWORKS.fromObject(getFrameworks(master)), JSON_OPTIONS));
    const agents = JSON.stringify(GET_AGENTS.toObject(GET_AGENTS.fromObject(getAgents(master)), JSON_OPTIONS));
    parts.push(text(`},"get_frameworks":${frameworks},"get_agents":${agents}}}`));
    return Buffer.concat(parts);
  }

  private task(t: TaskRecord): Buffer {
    const hit = this.tasks.get(t);
    if (hit && hit.state === t.state && hit.status === t.status) return hit.json;
    const json = text(JSON.stringify(TASK.toObject(TASK.fromObject(taskView(t)), JSON_OPTIONS)));
    this.tasks.set(t, { state: t.state, status: t.status, json });
    return json;
  }
}
