// Marathon app definitions: the JSON a user POSTs, checked once here, with
// Marathon's field names and defaults. Pure: `validateApp` turns untrusted
// JSON into an `AppDefinition` or into Marathon's 422 details, one entry per
// bad field (`{ path: '/cpus', errors: ['...'] }`). Unknown fields are
// refused; Marathon fields mesos-ts does not implement are refused saying so.
import { parseConstraint, type Constraint } from './constraints.js';
import { parseHealthChecks, parseReadinessChecks, type HealthCheck, type ReadinessCheck } from './check-definitions.js';
import { Collector, isObject, knownFields, num, show, stringMap, type FieldError } from './json-fields.js';
import { parseAutoscale, type AutoscaleSpec } from './autoscale-spec.js';

export { HEALTH_DEFAULTS, type HealthCheck, type HealthProtocol, type ReadinessCheck } from './check-definitions.js';

export type KillSelection = 'YOUNGEST_FIRST' | 'OLDEST_FIRST';

export interface PortDefinition {
  /** With requirePorts the host port; otherwise 0 asks for a service port picked by the framework. */
  readonly port: number;
  readonly protocol: string;
  readonly name?: string;
  readonly labels?: Readonly<Record<string, string>>;
}



export interface UpgradeStrategy {
  readonly minimumHealthCapacity: number;
  readonly maximumOverCapacity: number;
}

export interface DockerContainer {
  readonly type: 'DOCKER';
  readonly docker: { readonly image: string; readonly forcePullImage: boolean; readonly network?: 'HOST' };
}

/** When an unreachable instance is replaced (inactive) and forgotten (expunged); 'disabled': never. */
export type UnreachableStrategy = { readonly inactiveAfterSeconds: number; readonly expungeAfterSeconds: number } | 'disabled';

export interface VersionInfo {
  readonly lastScalingAt: string;
  readonly lastConfigChangeAt: string;
}

/** A checked app, every default filled in; `version` and `versionInfo` are set by the framework when it is stored. */
export interface AppDefinition {
  readonly id: string;
  readonly cmd?: string;
  readonly args?: readonly string[];
  readonly container?: DockerContainer;
  readonly cpus: number;
  readonly mem: number;
  readonly disk: number;
  readonly instances: number;
  readonly env: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly user?: string;
  readonly constraints: readonly Constraint[];
  readonly portDefinitions: readonly PortDefinition[];
  readonly requirePorts: boolean;
  readonly healthChecks: readonly HealthCheck[];
  readonly readinessChecks: readonly ReadinessCheck[];
  readonly upgradeStrategy: UpgradeStrategy;
  readonly backoffSeconds: number;
  readonly backoffFactor: number;
  readonly maxLaunchDelaySeconds: number;
  readonly killSelection: KillSelection;
  readonly taskKillGracePeriodSeconds?: number;
  readonly unreachableStrategy: UnreachableStrategy;
  /** Apps that must be complete (every instance healthy) before this app's deployments launch (absolute ids). */
  readonly dependencies: readonly string[];
  /** mesos-ts's extension: instances follow a metric between two bounds (autoscale-spec.ts). */
  readonly autoscale?: AutoscaleSpec;
  readonly version: string;
  readonly versionInfo: VersionInfo;
}

export type { FieldError } from './json-fields.js';

export type Validated = { readonly ok: true; readonly app: AppDefinition } | { readonly ok: false; readonly details: FieldError[] };

/** Marathon's defaults (app.raml, healthCheck.raml). */
export const APP_DEFAULTS = {
  cpus: 1,
  mem: 128,
  disk: 0,
  instances: 1,
  backoffSeconds: 1,
  backoffFactor: 1.15,
  maxLaunchDelaySeconds: 3600,
  killSelection: 'YOUNGEST_FIRST' as KillSelection,
  upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 },
  portDefinitions: [{ port: 0, protocol: 'tcp' }] as PortDefinition[],
  unreachableStrategy: { inactiveAfterSeconds: 300, expungeAfterSeconds: 600 },
} as const;


const SEGMENT = /^(([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])$/;

const FIELDS = new Set([
  'id', 'cmd', 'args', 'container', 'cpus', 'mem', 'disk', 'instances', 'env', 'labels', 'user', 'constraints', 'portDefinitions',
  'requirePorts', 'healthChecks', 'readinessChecks', 'upgradeStrategy', 'backoffSeconds', 'backoffFactor', 'maxLaunchDelaySeconds', 'killSelection',
  'taskKillGracePeriodSeconds', 'unreachableStrategy', 'dependencies', 'networks', 'version', 'versionInfo', 'autoscale',
]);

/** Marathon fields that exist there but not here: refused with this message rather than as unknown. */
const UNSUPPORTED = new Set([
  'acceptedResourceRoles', 'executor', 'fetch', 'uris', 'storeUrls', 'gpus', 'ipAddress', 'ports',
  'residency', 'secrets', 'role', 'tty', 'check', 'networks', 'resourceLimits',
]);

/**
 * Normalizes an app id as Marathon does: absolute (`web` → `/web`), no
 * trailing slash, `.`/`..` segments resolved; null when a segment is not
 * lower-case letters, digits, dashes and dots.
 */
export function normalizeAppId(raw: string, base = '/'): string | null {
  const joined = raw.startsWith('/') ? raw : `${base.replace(/\/$/, '')}/${raw}`;
  const out: string[] = [];
  for (const seg of joined.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else if (!SEGMENT.test(seg)) return null;
    else out.push(seg);
  }
  return out.length === 0 ? null : `/${out.join('/')}`;
}

/** The id's form in task ids and znode names: `/prod/web` → `prod_web` (ids hold no `_`, so this is one to one). */
export function appIdKey(id: string): string {
  return id.slice(1).replace(/\//g, '_');
}

export function appIdFromKey(key: string): string {
  return `/${key.replace(/_/g, '/')}`;
}


/**
 * Checks an app definition (parsed JSON). `baseId` resolves a relative id;
 * `version` stamps the result. Every problem is reported, not only the first.
 */
export function validateApp(input: unknown, options: { version: string; versionInfo?: VersionInfo; baseId?: string }): Validated {
  const c = new Collector();
  if (!isObject(input)) return { ok: false, details: [{ path: '/', errors: [`expected a JSON object, got ${show(input)}`] }] };
  const json = input;
  for (const k of Object.keys(json)) {
    if (k === 'networks') continue;
    if (UNSUPPORTED.has(k)) c.add(`/${k}`, 'is a Marathon field mesos-ts apps does not support (see framework/apps/README.md)');
    else if (!FIELDS.has(k)) c.add(`/${k}`, 'unknown field');
  }
  let id = '';
  if (typeof json.id !== 'string' || json.id === '') c.add('/id', 'is required: a path such as /prod/web');
  else {
    const normalized = normalizeAppId(json.id, options.baseId);
    if (!normalized) c.add('/id', `'${json.id}' must be a path of segments of lower-case letters, digits, '-' and '.' (e.g. /prod/web)`);
    else id = normalized;
  }
  const cmd = json.cmd;
  if (cmd !== undefined && (typeof cmd !== 'string' || cmd.trim() === '')) c.add('/cmd', `expected a non-empty string, got ${show(cmd)}`);
  const args = json.args;
  if (args !== undefined && (!Array.isArray(args) || args.some((a) => typeof a !== 'string'))) c.add('/args', `expected an array of strings, got ${show(args)}`);
  if (cmd !== undefined && args !== undefined) c.add('/', 'AppDefinition must either contain one of \'cmd\' or \'args\', and/or a Docker container, not both cmd and args');
  const container = parseContainer(c, json.container, json.networks);
  if (cmd === undefined && args === undefined && !container) c.add('/', "AppDefinition must either contain one of 'cmd' or 'args', and/or a Docker container");
  const cpus = num(c, json, 'cpus', '/cpus', APP_DEFAULTS.cpus, { min: 0.001 });
  const mem = num(c, json, 'mem', '/mem', APP_DEFAULTS.mem, { min: 0 });
  const disk = num(c, json, 'disk', '/disk', APP_DEFAULTS.disk, { min: 0 });
  const instances = num(c, json, 'instances', '/instances', APP_DEFAULTS.instances, { min: 0, integer: true });
  const env = stringMap(c, json.env, '/env');
  for (const k of Object.keys(env)) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) c.add(`/env/${k}`, `'${k}' is not a valid environment variable name`);
  const labels = stringMap(c, json.labels, '/labels');
  if (json.user !== undefined && (typeof json.user !== 'string' || json.user === '')) c.add('/user', `expected a non-empty string, got ${show(json.user)}`);
  const constraints = parseConstraints(c, json.constraints);
  const requirePorts = json.requirePorts === undefined ? false : json.requirePorts;
  if (typeof requirePorts !== 'boolean') c.add('/requirePorts', `expected true or false, got ${show(requirePorts)}`);
  const portDefinitions = parsePortDefinitions(c, json.portDefinitions, requirePorts === true);
  const healthChecks = parseHealthChecks(c, json.healthChecks, portDefinitions.length);
  const readinessChecks = parseReadinessChecks(c, json.readinessChecks, portDefinitions);
  const upgradeStrategy = parseUpgradeStrategy(c, json.upgradeStrategy);
  const backoffSeconds = num(c, json, 'backoffSeconds', '/backoffSeconds', APP_DEFAULTS.backoffSeconds, { min: 0 });
  const backoffFactor = num(c, json, 'backoffFactor', '/backoffFactor', APP_DEFAULTS.backoffFactor, { min: 1 });
  const maxLaunchDelaySeconds = num(c, json, 'maxLaunchDelaySeconds', '/maxLaunchDelaySeconds', APP_DEFAULTS.maxLaunchDelaySeconds, { min: 0 });
  const killSelection = json.killSelection ?? APP_DEFAULTS.killSelection;
  if (killSelection !== 'YOUNGEST_FIRST' && killSelection !== 'OLDEST_FIRST') c.add('/killSelection', `expected YOUNGEST_FIRST or OLDEST_FIRST, got ${show(killSelection)}`);
  const grace = json.taskKillGracePeriodSeconds;
  if (grace !== undefined) num(c, json, 'taskKillGracePeriodSeconds', '/taskKillGracePeriodSeconds', 0, { min: 0 });
  const unreachableStrategy = parseUnreachableStrategy(c, json.unreachableStrategy);
  const dependencies = parseDependencies(c, json.dependencies, id);
  const autoscale = parseAutoscale(c, json.autoscale, instances);
  if (c.details.length > 0) return { ok: false, details: c.details };
  const versionInfo = options.versionInfo ?? { lastScalingAt: options.version, lastConfigChangeAt: options.version };
  return {
    ok: true,
    app: {
      id, ...(cmd !== undefined && { cmd: cmd as string }), ...(args !== undefined && { args: args as string[] }), ...(container && { container }),
      cpus, mem, disk, instances, env, labels, ...(json.user !== undefined && { user: json.user as string }), constraints, portDefinitions,
      requirePorts: requirePorts as boolean, healthChecks, readinessChecks, upgradeStrategy, backoffSeconds, backoffFactor, maxLaunchDelaySeconds,
      killSelection: killSelection as KillSelection, ...(grace !== undefined && { taskKillGracePeriodSeconds: grace as number }), unreachableStrategy, dependencies,
      ...(autoscale && { autoscale }), version: options.version, versionInfo,
    },
  };
}

function parseContainer(c: Collector, v: unknown, networks: unknown): DockerContainer | undefined {
  if (networks !== undefined) {
    const hostOnly = Array.isArray(networks) && networks.every((n) => isObject(n) && n.mode === 'host' && Object.keys(n).length === 1);
    if (!hostOnly) c.add('/networks', `only host networking is supported ([{"mode":"host"}]), got ${show(networks)}`);
  }
  if (v === undefined) return undefined;
  if (!isObject(v)) {
    c.add('/container', `expected an object, got ${show(v)}`);
    return undefined;
  }
  knownFields(c, v, '/container', ['type', 'docker', 'volumes', 'portMappings']);
  if (v.type !== undefined && v.type !== 'DOCKER') c.add('/container/type', `only DOCKER containers are supported, got ${show(v.type)}`);
  if (Array.isArray(v.volumes) ? v.volumes.length > 0 : v.volumes !== undefined) c.add('/container/volumes', 'volumes are not supported');
  if (Array.isArray(v.portMappings) ? v.portMappings.length > 0 : v.portMappings !== undefined) c.add('/container/portMappings', 'port mappings need bridge networking, which is not supported; use portDefinitions');
  const d = v.docker;
  if (!isObject(d)) {
    c.add('/container/docker', 'is required, with an image');
    return undefined;
  }
  knownFields(c, d, '/container/docker', ['image', 'network', 'forcePullImage', 'privileged', 'parameters']);
  if (typeof d.image !== 'string' || d.image.trim() === '') c.add('/container/docker/image', `expected a non-empty string, got ${show(d.image)}`);
  if (d.network !== undefined && d.network !== 'HOST') c.add('/container/docker/network', `only HOST networking is supported, got ${show(d.network)}`);
  if (d.privileged !== undefined && d.privileged !== false) c.add('/container/docker/privileged', 'privileged containers are not supported');
  if (Array.isArray(d.parameters) ? d.parameters.length > 0 : d.parameters !== undefined) c.add('/container/docker/parameters', 'docker parameters are not supported');
  if (d.forcePullImage !== undefined && typeof d.forcePullImage !== 'boolean') c.add('/container/docker/forcePullImage', `expected true or false, got ${show(d.forcePullImage)}`);
  return { type: 'DOCKER', docker: { image: String(d.image), forcePullImage: d.forcePullImage === true, ...(d.network !== undefined && { network: 'HOST' as const }) } };
}

function parseConstraints(c: Collector, v: unknown): Constraint[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    c.add('/constraints', `expected an array of [field, operator, value?], got ${show(v)}`);
    return [];
  }
  const out: Constraint[] = [];
  v.forEach((item, i) => {
    const parsed = parseConstraint(item);
    if (typeof parsed === 'string') c.add(`/constraints(${i})`, parsed);
    else out.push(parsed);
  });
  return out;
}

function parsePortDefinitions(c: Collector, v: unknown, requirePorts: boolean): PortDefinition[] {
  if (v === undefined) return requirePorts ? [] : [...APP_DEFAULTS.portDefinitions];
  if (!Array.isArray(v)) {
    c.add('/portDefinitions', `expected an array, got ${show(v)}`);
    return [];
  }
  const out: PortDefinition[] = [];
  const names = new Set<string>();
  v.forEach((p, i) => {
    const path = `/portDefinitions(${i})`;
    if (!isObject(p)) return c.add(path, `expected an object, got ${show(p)}`);
    knownFields(c, p, path, ['port', 'protocol', 'name', 'labels']);
    const port = p.port ?? 0;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) c.add(`${path}/port`, `expected a port number 0..65535, got ${show(port)}`);
    else if (requirePorts && port === 0) c.add(`${path}/port`, 'with requirePorts every port must be given (not 0)');
    const protocol = p.protocol ?? 'tcp';
    if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'udp,tcp') c.add(`${path}/protocol`, `expected tcp, udp or udp,tcp, got ${show(protocol)}`);
    if (p.name !== undefined) {
      if (typeof p.name !== 'string' || !/^[a-z0-9-]+$/.test(p.name)) c.add(`${path}/name`, `expected lower-case letters, digits and '-', got ${show(p.name)}`);
      else if (names.has(p.name)) c.add(`${path}/name`, `'${p.name}' is used by another port definition`);
      else names.add(p.name);
    }
    const labels = stringMap(c, p.labels, `${path}/labels`);
    out.push({ port: Number(port), protocol: String(protocol), ...(typeof p.name === 'string' && { name: p.name }), ...(p.labels !== undefined && { labels }) });
  });
  const fixed = out.map((p) => p.port).filter((p) => p !== 0);
  if (new Set(fixed).size !== fixed.length) c.add('/portDefinitions', 'ports must be unique');
  return out;
}


/** Ids relative to the app's group (`../db` from /prod/web is /db), as Marathon resolves them. */
function parseDependencies(c: Collector, v: unknown, id: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    c.add('/dependencies', `expected an array of app ids, got ${show(v)}`);
    return [];
  }
  const group = id.slice(0, id.lastIndexOf('/')) || '/';
  const out: string[] = [];
  v.forEach((d, i) => {
    const dep = typeof d === 'string' ? normalizeAppId(d, group) : null;
    if (!dep) c.add(`/dependencies(${i})`, `expected an app id, got ${show(d)}`);
    else if (dep === id) c.add(`/dependencies(${i})`, 'an app cannot depend on itself');
    else if (out.includes(dep)) c.add(`/dependencies(${i})`, `${dep} is listed twice`);
    else out.push(dep);
  });
  return out;
}

function parseUnreachableStrategy(c: Collector, v: unknown): UnreachableStrategy {
  if (v === undefined) return { ...APP_DEFAULTS.unreachableStrategy };
  if (v === 'disabled') return 'disabled';
  if (!isObject(v)) {
    c.add('/unreachableStrategy', `expected "disabled" or {"inactiveAfterSeconds", "expungeAfterSeconds"}, got ${show(v)}`);
    return 'disabled';
  }
  knownFields(c, v, '/unreachableStrategy', ['inactiveAfterSeconds', 'expungeAfterSeconds']);
  const inactiveAfterSeconds = num(c, v, 'inactiveAfterSeconds', '/unreachableStrategy/inactiveAfterSeconds', 300, { min: 1, integer: true });
  const expungeAfterSeconds = num(c, v, 'expungeAfterSeconds', '/unreachableStrategy/expungeAfterSeconds', 600, { min: 1, integer: true });
  if (inactiveAfterSeconds > expungeAfterSeconds) c.add('/unreachableStrategy', `inactiveAfterSeconds (${inactiveAfterSeconds}) must be at most expungeAfterSeconds (${expungeAfterSeconds})`);
  return { inactiveAfterSeconds, expungeAfterSeconds };
}


function parseUpgradeStrategy(c: Collector, v: unknown): UpgradeStrategy {
  if (v === undefined) return { ...APP_DEFAULTS.upgradeStrategy };
  if (!isObject(v)) {
    c.add('/upgradeStrategy', `expected an object, got ${show(v)}`);
    return { ...APP_DEFAULTS.upgradeStrategy };
  }
  knownFields(c, v, '/upgradeStrategy', ['minimumHealthCapacity', 'maximumOverCapacity']);
  const minimumHealthCapacity = num(c, v, 'minimumHealthCapacity', '/upgradeStrategy/minimumHealthCapacity', 1, { min: 0, max: 1 });
  const maximumOverCapacity = num(c, v, 'maximumOverCapacity', '/upgradeStrategy/maximumOverCapacity', 1, { min: 0, max: 1 });
  if (minimumHealthCapacity === 1 && maximumOverCapacity === 0) {
    c.add('/upgradeStrategy', 'minimumHealthCapacity 1 with maximumOverCapacity 0 leaves no room to replace an instance');
  }
  return { minimumHealthCapacity, maximumOverCapacity };
}

/** The fields a user gave (plus defaults), as GET /v2/apps/{id} shows them; the framework adds the counts. */
export function appJson(app: AppDefinition): Record<string, unknown> {
  return { ...app, constraints: app.constraints.map((k) => k.raw) };
}

/** What the user wrote, to merge a PATCH or partial PUT into: the stored app as JSON without the framework's own fields. */
export function editableJson(app: AppDefinition): Record<string, unknown> {
  const { version: _v, versionInfo: _vi, ...rest } = appJson(app);
  return rest;
}

/**
 * True when `next` differs from `prev` only in `instances` (and `autoscale`, which the tasks never see):
 * a scale, not a new configuration (no restart).
 */
export function onlyScaled(prev: AppDefinition, next: AppDefinition): boolean {
  const strip = (a: AppDefinition): string => JSON.stringify({ ...editableJson(a), instances: 0, autoscale: undefined });
  return strip(prev) === strip(next);
}
