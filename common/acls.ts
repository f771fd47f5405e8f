// Authorization with Apache Mesos's ACLs (docs/authorization.md,
// include/mesos/authorizer/acls.proto, src/authorizer/local/authorizer.cpp):
// the --acls JSON of master and agent, checked at start-up, and the local
// authorizer's decision as a pure function.
//
//   {"permissive": true, "run_tasks": [{"principals": {"values": ["a"]}, "users": {"type": "NONE"}}], ...}
//
// A request is a subject (the caller's principal; none for an
// unauthenticated caller, which Mesos treats as the entity ANY) and an object
// (a role, a user, a framework's principal; ANY when the action has none).
// Rules are tried in order: the first whose `principals` and object entity
// both *match* the request decides, and allows only if both also *allow* it.
// No rule matching: `permissive` decides (default true).
//
//                  rule:  SOME          NONE         ANY
//   request SOME   match  if a subset   yes          yes
//                  allow  if a subset   no           yes
//   request ANY    match  no            yes          yes
//                  allow  no            no           yes
//
// So a caller without a principal is matched only by rules naming ANY or
// NONE principals, and allowed only by ANY.
import { InvalidArgument, PermissionDenied } from './errors.js';
import { readFileSync } from 'node:fs';

/** Each action mesos-ts knows, with the name of its object entity (acls.proto). */
export const ACL_ACTIONS = {
  register_frameworks: 'roles',
  run_tasks: 'users',
  teardown_frameworks: 'framework_principals',
  reserve_resources: 'roles',
  unreserve_resources: 'reserver_principals',
  create_volumes: 'roles',
  destroy_volumes: 'creator_principals',
  resize_volumes: 'roles',
  update_weights: 'roles',
  get_quotas: 'roles',
  update_quotas: 'roles',
  view_roles: 'roles',
  get_endpoints: 'paths',
  view_frameworks: 'users',
  view_tasks: 'users',
  view_executors: 'users',
  access_sandboxes: 'users',
  access_mesos_logs: 'logs',
  view_flags: 'flags',
  set_log_level: 'level',
  register_agents: 'agents',
  update_maintenance_schedules: 'machines',
  get_maintenance_schedules: 'machines',
  start_maintenances: 'machines',
  stop_maintenances: 'machines',
  get_maintenance_statuses: 'machines',
  drain_agents: 'agents',
  deactivate_agents: 'agents',
  reactivate_agents: 'agents',
  mark_agents_gone: 'agents',
} as const;

export type AclAction = keyof typeof ACL_ACTIONS;

/** An ACL entity: some values, anyone (ANY) or no one (NONE). */
export type Entity = { readonly type: 'SOME'; readonly values: readonly string[] } | { readonly type: 'ANY' } | { readonly type: 'NONE' };

export interface AclRule {
  readonly principals: Entity;
  readonly object: Entity;
}

export interface Acls {
  readonly permissive: boolean;
  readonly rules: ReadonlyMap<AclAction, readonly AclRule[]>;
}

/** No --acls: everything is allowed. */
export const NO_ACLS: Acls = { permissive: true, rules: new Map() };

/** The decision, with what decided it (`ACL run_tasks[1]`, or the permissive default) for refusal messages and logs. */
export type Decision = { readonly allowed: true } | { readonly allowed: false; readonly by: string };

const ANY: Entity = { type: 'ANY' };

/**
 * May `principal` (null: an unauthenticated caller) do `action` on `object`
 * (null: the action has no object, or it is not known, as Mesos's ANY)?
 */
export function authorize(acls: Acls, action: AclAction, principal: string | null, object: string | null): Decision {
  const subject: Entity = principal === null ? ANY : { type: 'SOME', values: [principal] };
  const target: Entity = object === null ? ANY : { type: 'SOME', values: [object] };
  const rules = acls.rules.get(action) ?? [];
  for (const [i, rule] of rules.entries()) {
    if (!matches(subject, rule.principals) || !matches(target, rule.object)) continue;
    return allows(subject, rule.principals) && allows(target, rule.object) ? { allowed: true } : { allowed: false, by: `ACL ${action}[${i}]` };
  }
  return acls.permissive ? { allowed: true } : { allowed: false, by: `ACL ${action}: no rule matches and "permissive" is false` };
}

/** Why `what` is refused (`Not authorized to WHAT (ACL action[i])`), or null when it is allowed. */
export function refusal(acls: Acls, action: AclAction, principal: string | null, object: string | null, what: string): string | null {
  const decision = authorize(acls, action, principal, object);
  return decision.allowed ? null : `Not authorized to ${what} (${decision.by})`;
}

/** Throws PermissionDenied (gRPC PERMISSION_DENIED, HTTP 403) naming the ACL when `what` is refused. */
export function requireAllowed(acls: Acls, action: AclAction, principal: string | null, object: string | null, what: string): void {
  const refused = refusal(acls, action, principal, object, what);
  if (refused !== null) throw new PermissionDenied(refused);
}

/** True when `action` allows everyone everything (no rule for it, permissive): callers may skip per-object work such as filtering. */
export function allowsAll(acls: Acls, action: AclAction): boolean {
  return acls.permissive && (acls.rules.get(action)?.length ?? 0) === 0;
}

function matches(request: Entity, rule: Entity): boolean {
  if (request.type === 'NONE') return rule.type === 'NONE';
  if (request.type === 'ANY') return rule.type !== 'SOME';
  return rule.type !== 'SOME' || subset(request.values, rule.values);
}

function allows(request: Entity, rule: Entity): boolean {
  if (request.type === 'NONE') return rule.type === 'NONE';
  if (request.type === 'ANY') return rule.type === 'ANY';
  return rule.type === 'ANY' || (rule.type === 'SOME' && subset(request.values, rule.values));
}

const subset = (values: readonly string[], of: readonly string[]) => values.every((v) => of.includes(v));

// ---- parsing ------------------------------------------------------------------

/**
 * --acls as Mesos takes it: the JSON itself, or a path to it (file://PATH, or
 * a bare path as older Mesos did). Every error names the key at fault; an
 * action Mesos has but mesos-ts does not (nested containers, ...) is refused.
 */
export function parseAcls(value: string, flag = 'acls'): Acls {
  const text = aclText(value.trim(), flag);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgument(`--${flag}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!isObject(json)) throw new InvalidArgument(`--${flag}: expected a JSON object such as {"permissive": true, "run_tasks": [...]}`);
  let permissive = true;
  const rules = new Map<AclAction, AclRule[]>();
  for (const [key, v] of Object.entries(json)) {
    if (key === 'permissive') {
      if (typeof v !== 'boolean') throw new InvalidArgument(`--${flag}: "permissive" must be true or false, got ${JSON.stringify(v)}`);
      permissive = v;
      continue;
    }
    if (!Object.hasOwn(ACL_ACTIONS, key)) {
      throw new InvalidArgument(`--${flag}: unknown or unsupported action "${key}" (mesos-ts knows ${Object.keys(ACL_ACTIONS).join(', ')})`);
    }
    const action = key as AclAction;
    if (!Array.isArray(v)) throw new InvalidArgument(`--${flag}: "${action}" must be an array of rules`);
    rules.set(action, v.map((rule, i) => parseRule(rule, action, `--${flag}: ${action}[${i}]`)));
  }
  return { permissive, rules };
}

function aclText(value: string, flag: string): string {
  if (value.startsWith('{') || value.startsWith('[')) return value;
  const path = value.startsWith('file://') ? value.slice('file://'.length) : value;
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new InvalidArgument(`--${flag}: cannot read file '${path}' (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`, { cause: err });
  }
}

function parseRule(rule: unknown, action: AclAction, where: string): AclRule {
  const objectKey = ACL_ACTIONS[action];
  if (!isObject(rule)) throw new InvalidArgument(`${where}: expected {"principals": {...}, "${objectKey}": {...}}`);
  for (const key of Object.keys(rule)) {
    if (key !== 'principals' && key !== objectKey) throw new InvalidArgument(`${where}: unknown key "${key}" (a ${action} rule has "principals" and "${objectKey}")`);
  }
  // acls.proto makes both required: an absent entity could mean ANY or NONE.
  if (rule.principals === undefined) throw new InvalidArgument(`${where}.principals is required`);
  if (rule[objectKey] === undefined) throw new InvalidArgument(`${where}.${objectKey} is required`);
  return { principals: parseEntity(rule.principals, `${where}.principals`), object: parseEntity(rule[objectKey], `${where}.${objectKey}`) };
}

function parseEntity(entity: unknown, where: string): Entity {
  if (!isObject(entity)) throw new InvalidArgument(`${where}: expected {"values": [...]} or {"type": "ANY"} or {"type": "NONE"}`);
  for (const key of Object.keys(entity)) if (key !== 'type' && key !== 'values') throw new InvalidArgument(`${where}: unknown key "${key}" (an entity has "type" and "values")`);
  const type = entity.type ?? 'SOME';
  if (type !== 'SOME' && type !== 'ANY' && type !== 'NONE') throw new InvalidArgument(`${where}.type must be SOME, ANY or NONE, got ${JSON.stringify(type)}`);
  if (type !== 'SOME') return { type };
  const values = entity.values ?? [];
  if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) throw new InvalidArgument(`${where}.values must be an array of strings`);
  return { type, values: values as string[] };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
