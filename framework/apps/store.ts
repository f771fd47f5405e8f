// The apps framework's state in ZooKeeper, beside its election znodes:
//
//   <zk path>/json.info_<seq>                      candidacies of `mesos-ts apps` instances
//   <zk path>/state/framework-id                   the FrameworkID, to re-subscribe with after a restart
//   <zk path>/state/apps/<key>                     each app's current definition (key: /prod/web → prod_web)
//   <zk path>/state/versions/<key>/<version>       every version of it, for /v2/apps/{id}/versions
//   <zk path>/state/deployments/<id>               running deployments
//   <zk path>/state/instances/<task id>            each instance, written before its launch
//
// Every write is one ZooKeeper multi that first checks this instance's own
// election znode, so a deposed leader can never overwrite its successor's state.
import type { ZkOp, ZkSession } from '../../common/zk/session.js';
import { appIdKey, type AppDefinition } from './app-definition.js';
import type { Instance } from './planner.js';
import type { Deployment } from './deployments.js';

export interface LoadedState {
  readonly frameworkId: string | null;
  readonly apps: AppDefinition[];
  readonly instances: Instance[];
  readonly deployments: Deployment[];
}

/** Where the framework keeps its state; ZkAppsStore is the real one. */
export interface AppsStore {
  load(): Promise<LoadedState>;
  saveFrameworkId(id: string): Promise<void>;
  /** The app's current definition, and the same as one more version. */
  putApp(app: AppDefinition): Promise<void>;
  deleteApp(id: string): Promise<void>;
  versions(id: string): Promise<string[]>;
  version(id: string, version: string): Promise<AppDefinition | null>;
  putInstance(instance: Instance): Promise<void>;
  deleteInstance(taskId: string): Promise<void>;
  putDeployment(deployment: Deployment): Promise<void>;
  deleteDeployment(id: string): Promise<void>;
}

/** Versions kept per app (Marathon's --zk_max_versions default is 50). */
const MAX_VERSIONS = 50;

export class ZkAppsStore implements AppsStore {
  private readonly base: string;
  private readonly existing = new Set<string>();

  constructor(
    private readonly session: ZkSession,
    path: string,
    /** This instance's election znode: every write requires it to exist. */
    private readonly fence: () => string | null,
  ) {
    this.base = `${path}/state`;
  }

  async load(): Promise<LoadedState> {
    for (const dir of ['apps', 'versions', 'deployments', 'instances']) await this.session.mkdirp(`${this.base}/${dir}`);
    const fid = await this.session.data(`${this.base}/framework-id`);
    if (fid) this.existing.add(`${this.base}/framework-id`);
    return {
      frameworkId: fid && fid.length > 0 ? fid.toString('utf8') : null,
      apps: await this.readAll<AppDefinition>('apps'),
      instances: await this.readAll<Instance>('instances'),
      deployments: await this.readAll<Deployment>('deployments'),
    };
  }

  saveFrameworkId(id: string): Promise<void> {
    return this.put(`${this.base}/framework-id`, id);
  }

  async putApp(app: AppDefinition): Promise<void> {
    const key = appIdKey(app.id);
    const dir = `${this.base}/versions/${key}`;
    await this.session.mkdirp(dir);
    const json = JSON.stringify(app);
    await this.write([this.upsert(`${this.base}/apps/${key}`, json), this.upsert(`${dir}/${app.version}`, json)]);
    const versions = (await this.session.children(dir)).sort();
    const drop = versions.slice(0, Math.max(0, versions.length - MAX_VERSIONS));
    if (drop.length > 0) await this.write(drop.map((v) => this.remove(`${dir}/${v}`)).filter(isOp));
  }

  async deleteApp(id: string): Promise<void> {
    const key = appIdKey(id);
    const dir = `${this.base}/versions/${key}`;
    const versions = await this.session.children(dir).catch(() => [] as string[]);
    await this.write([...versions.map((v) => this.remove(`${dir}/${v}`)), this.remove(dir), this.remove(`${this.base}/apps/${key}`)].filter(isOp));
  }

  async versions(id: string): Promise<string[]> {
    return (await this.session.children(`${this.base}/versions/${appIdKey(id)}`).catch(() => [] as string[])).sort().reverse();
  }

  async version(id: string, version: string): Promise<AppDefinition | null> {
    if (version.includes('/')) return null;
    const data = await this.session.data(`${this.base}/versions/${appIdKey(id)}/${version}`);
    return data ? (JSON.parse(data.toString('utf8')) as AppDefinition) : null;
  }

  putInstance(instance: Instance): Promise<void> {
    return this.put(`${this.base}/instances/${instance.taskId}`, JSON.stringify(instance));
  }

  async deleteInstance(taskId: string): Promise<void> {
    const op = this.remove(`${this.base}/instances/${taskId}`);
    if (op) await this.write([op]);
  }

  putDeployment(deployment: Deployment): Promise<void> {
    return this.put(`${this.base}/deployments/${deployment.id}`, JSON.stringify(deployment));
  }

  async deleteDeployment(id: string): Promise<void> {
    const op = this.remove(`${this.base}/deployments/${id}`);
    if (op) await this.write([op]);
  }

  private async readAll<T>(dir: string): Promise<T[]> {
    const out: T[] = [];
    for (const name of await this.session.children(`${this.base}/${dir}`)) {
      const path = `${this.base}/${dir}/${name}`;
      const data = await this.session.data(path);
      if (!data) continue;
      this.existing.add(path);
      out.push(JSON.parse(data.toString('utf8')) as T);
    }
    return out;
  }

  private put(path: string, data: string): Promise<void> {
    return this.write([this.upsert(path, data)]);
  }

  private upsert(path: string, data: string): ZkOp {
    const op: ZkOp = this.existing.has(path) ? { op: 'set', path, data: Buffer.from(data) } : { op: 'create', path, data: Buffer.from(data), access: 'private' };
    return op;
  }

  private remove(path: string): ZkOp | null {
    return this.existing.has(path) || path.includes('/versions/') ? { op: 'remove', path } : null;
  }

  private async write(ops: readonly ZkOp[]): Promise<void> {
    const fence = this.fence();
    if (!fence) throw new Error('this apps instance holds no candidacy in ZooKeeper: it cannot write');
    await this.session.commit([{ op: 'check', path: fence }, ...ops]);
    for (const op of ops) {
      if (op.op === 'create' || op.op === 'set') this.existing.add(op.path);
      if (op.op === 'remove') this.existing.delete(op.path);
    }
  }
}

const isOp = (op: ZkOp | null): op is ZkOp => op !== null;
