// Authorization at the master (Mesos's --acls, docs/authorization.md): what
// each surface asks the ACLs (common/acls.ts) before anything changes, and
// how the read surfaces are filtered. The subject is the principal a caller
// authenticated as (master/authentication.ts), or none; for a scheduler's
// calls it is the framework's principal.
//
//   SUBSCRIBE, UPDATE_FRAMEWORK   register_frameworks (each role)      operations/frameworks.ts
//   ACCEPT: LAUNCH                run_tasks (the task's user)          operations/launch.ts -> TASK_ERROR
//   ACCEPT: RESERVE / UNRESERVE   reserve_ / unreserve_resources       operations/launch.ts -> dropped
//   AgentLink register            register_agents                      rpc/agent-link-service.ts
//   operator writes (v1 and v0)   writeCallRefusal below               operator/operator-api.ts
//   operator reads, /state, ...   view_frameworks, view_tasks, view_roles, get_quotas (filtered); view_flags, get_endpoints, get_maintenance_* (refused)
import type { OperatorCall, OperatorEvent, OperatorResponse } from '../proto/index.js';
import { allowsAll, authorize, parseAcls, refusal, NO_ACLS, type AclAction, type Acls } from '../common/acls.js';
import type { Logger } from '../common/log/logger.js';
import type { ClusterState } from './state/cluster.js';
import type { GetState } from './operator/views.js';
import type { V0Model } from './v0/model.js';
import type { HttpHandler } from './http.js';
import { PermissionDenied } from '../common/errors.js';
import { refuse } from './http-api/http-status.js';
import { authenticatedPrincipal } from './authentication.js';

/** Actions the master enforces; the agent enforces access_sandboxes and get_endpoints on its own endpoints. */
export const MASTER_ACTIONS: ReadonlySet<AclAction> = new Set<AclAction>([
  'register_frameworks', 'run_tasks', 'teardown_frameworks', 'reserve_resources', 'unreserve_resources', 'update_weights', 'update_quotas',
  'get_quotas', 'view_roles', 'view_frameworks', 'view_tasks', 'view_flags', 'get_endpoints', 'register_agents', 'update_maintenance_schedules',
  'get_maintenance_schedules', 'start_maintenances', 'stop_maintenances', 'get_maintenance_statuses', 'drain_agents', 'deactivate_agents',
  'reactivate_agents', 'mark_agents_gone',
]);

/** --acls read and checked (start-up fails on a bad one); rules for actions this component does not enforce are named in a warning. */
export function loadAcls(value: string | undefined, enforced: ReadonlySet<AclAction>, logger: Logger, component: string): Acls {
  if (value === undefined || value.trim() === '') return NO_ACLS;
  const acls = parseAcls(value);
  const ignored = [...acls.rules.keys()].filter((a) => !enforced.has(a));
  if (ignored.length > 0) logger.warn({ actions: ignored }, `--acls: the ${component} does not enforce ${ignored.join(', ')}; those rules are ignored here`);
  return acls;
}

const who = (principal: string | null) => (principal === null ? 'a caller without principal' : `principal '${principal}'`);

/** Why an operator write call is refused (PERMISSION_DENIED / 403), or null. Reads the state only to find a framework's principal. */
export function writeCallRefusal(acls: Acls, type: string, call: OperatorCall, principal: string | null, state: ClusterState): string | null {
  const check = (action: AclAction, object: string | null, what: string) => refusal(acls, action, principal, object, `${what} as ${who(principal)}`);
  const first = (checks: readonly (() => string | null)[]) => checks.reduce<string | null>((found, c) => found ?? c(), null);
  switch (type) {
    case 'UPDATE_WEIGHTS':
      return first((call.update_weights?.weight_infos ?? []).map((w) => () => check('update_weights', w.role, `update the weight of role '${w.role}'`)));
    case 'UPDATE_QUOTA':
      return first((call.update_quota?.quota_configs ?? []).map((c) => () => check('update_quotas', c.role, `update the quota of role '${c.role}'`)));
    case 'SET_QUOTA': {
      const role = call.set_quota?.quota_request?.role ?? '';
      return check('update_quotas', role, `set the quota of role '${role}'`);
    }
    case 'REMOVE_QUOTA': {
      const role = call.remove_quota?.role ?? '';
      return check('update_quotas', role, `remove the quota of role '${role}'`);
    }
    case 'TEARDOWN': {
      const id = call.teardown?.framework_id?.value ?? '';
      const fw = state.framework(id);
      // An unknown framework is left to the operation (NotFound).
      return fw ? check('teardown_frameworks', fw.info.principal ?? '', `tear down framework ${id} (principal '${fw.info.principal ?? ''}')`) : null;
    }
    case 'RESERVE_RESOURCES': {
      const roles = new Set((call.reserve_resources?.resources ?? []).map((r) => r.reservations?.at(-1)?.role ?? r.role ?? '*'));
      return first([...roles].map((role) => () => check('reserve_resources', role, `reserve resources for role '${role}'`)));
    }
    case 'UNRESERVE_RESOURCES': {
      const reservers = new Set((call.unreserve_resources?.resources ?? []).map((r) => r.reservations?.at(-1)?.principal ?? ''));
      return first([...reservers].map((p) => () => check('unreserve_resources', p, `unreserve resources reserved by principal '${p}'`)));
    }
    case 'UPDATE_MAINTENANCE_SCHEDULE':
      return check('update_maintenance_schedules', null, 'update the maintenance schedule');
    case 'START_MAINTENANCE':
      return check('start_maintenances', null, 'start maintenance');
    case 'STOP_MAINTENANCE':
      return check('stop_maintenances', null, 'stop maintenance');
    case 'DRAIN_AGENT':
      return check('drain_agents', null, 'drain an agent');
    case 'DEACTIVATE_AGENT':
      return check('deactivate_agents', null, 'deactivate an agent');
    case 'REACTIVATE_AGENT':
      return check('reactivate_agents', null, 'reactivate an agent');
    case 'MARK_AGENT_GONE':
      return check('mark_agents_gone', null, 'mark an agent gone');
    default:
      return null;
  }
}

/** Why an operator read call is refused outright, or null (the state calls are filtered instead, by viewFilter). */
export function readCallRefusal(acls: Acls, type: string, principal: string | null): string | null {
  const check = (action: AclAction, object: string | null, what: string) => refusal(acls, action, principal, object, `${what} as ${who(principal)}`);
  switch (type) {
    case 'GET_FLAGS':
      return check('view_flags', null, 'view the flags');
    case 'GET_METRICS':
      return check('get_endpoints', '/metrics/snapshot', "GET '/metrics/snapshot'");
    case 'GET_MAINTENANCE_SCHEDULE':
      return check('get_maintenance_schedules', null, 'view the maintenance schedule');
    case 'GET_MAINTENANCE_STATUS':
      return check('get_maintenance_statuses', null, 'view the maintenance status');
    default:
      return null;
  }
}

/** The master's HTTP read endpoints Mesos puts under get_endpoints (and view_flags for /flags), by path. */
export function endpointRefusal(acls: Acls, path: string, principal: string | null): string | null {
  const bare = path.startsWith('/master/') ? path.slice('/master'.length) : path;
  if (bare === '/flags') return refusal(acls, 'view_flags', principal, null, `view the flags as ${who(principal)}`);
  if (path === '/metrics/snapshot' || path === '/metrics') return refusal(acls, 'get_endpoints', principal, path, `GET '${path}' as ${who(principal)}`);
  return null;
}

/** The HTTP route after authentication: 403 for a GET of an endpoint the ACLs refuse this caller (get_endpoints, view_flags). */
export function endpointAuthorization(acls: Acls, logger: Logger): HttpHandler {
  return (req, res, path) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const principal = authenticatedPrincipal(req);
    const refused = endpointRefusal(acls, path, principal);
    if (refused === null) return false;
    logger.warn({ principal, path }, refused);
    refuse(res, new PermissionDenied(refused));
    return true;
  };
}

/** The v0 routes' view filter: /master/state and the rest as the request's principal may see them. */
export function v0ViewFilter(acls: Acls): (req: object) => ((model: V0Model) => V0Model) | null {
  return (req) => {
    const filter = viewFilter(acls, authenticatedPrincipal(req));
    return filter ? (model) => filterV0Model(model, filter) : null;
  };
}

/** What one principal may see: frameworks and tasks by their user (view_frameworks, view_tasks), roles and their weights (view_roles), quotas (get_quotas). */
export interface ViewFilter {
  framework(user: string): boolean;
  task(user: string): boolean;
  role(role: string): boolean;
  quota(role: string): boolean;
}

const VIEW_ACTIONS: readonly AclAction[] = ['view_frameworks', 'view_tasks', 'view_roles', 'get_quotas'];

/** The filter for `principal`, or null when the ACLs let everyone see everything (answers are then shared and cached). */
export function viewFilter(acls: Acls, principal: string | null): ViewFilter | null {
  if (VIEW_ACTIONS.every((a) => allowsAll(acls, a))) return null;
  const may = (action: AclAction) => (object: string) => authorize(acls, action, principal, object).allowed;
  return { framework: may('view_frameworks'), task: may('view_tasks'), role: may('view_roles'), quota: may('get_quotas') };
}

/** A task's user (Task.user, else its framework's), as Mesos's view_tasks asks. */
const taskUser = (task: { user?: string | null | undefined; framework_id?: { value?: string | undefined } | null | undefined }, frameworkUsers: ReadonlyMap<string, string>) =>
  task.user || frameworkUsers.get(task.framework_id?.value ?? '') || '';

/** GET_STATE (and GET_FRAMEWORKS, GET_TASKS) without what `filter` hides. */
export function filterGetState(state: GetState, filter: ViewFilter, frameworkUsers: ReadonlyMap<string, string>): GetState {
  const fws = state.get_frameworks;
  const tasks = state.get_tasks;
  const seen = <T extends { framework_info?: { user?: string } | null }>(list: T[] | undefined) => (list ?? []).filter((f) => filter.framework(f.framework_info?.user ?? ''));
  const visible = <T extends { user?: string; framework_id?: { value?: string | undefined } | null | undefined }>(list: T[] | undefined) =>
    (list ?? []).filter((t) => filter.task(taskUser(t, frameworkUsers)));
  return {
    ...state,
    ...(fws ? { get_frameworks: { ...fws, frameworks: seen(fws.frameworks), completed_frameworks: seen(fws.completed_frameworks) } } : {}),
    ...(tasks ? { get_tasks: { ...tasks, tasks: visible(tasks.tasks), unreachable_tasks: visible(tasks.unreachable_tasks), completed_tasks: visible(tasks.completed_tasks) } } : {}),
  };
}

/** An operator answer with the state calls filtered. */
export function filterResponse(response: OperatorResponse, filter: ViewFilter, frameworkUsers: ReadonlyMap<string, string>): OperatorResponse {
  if (response.get_state) return { ...response, get_state: filterGetState(response.get_state, filter, frameworkUsers) };
  if (response.get_frameworks) return { ...response, get_frameworks: filterGetState({ get_frameworks: response.get_frameworks }, filter, frameworkUsers).get_frameworks! };
  if (response.get_tasks) return { ...response, get_tasks: filterGetState({ get_tasks: response.get_tasks }, filter, frameworkUsers).get_tasks! };
  if (response.get_roles) return { ...response, get_roles: { ...response.get_roles, roles: (response.get_roles.roles ?? []).filter((r) => filter.role(r.name ?? '')) } };
  if (response.get_weights) return { ...response, get_weights: { ...response.get_weights, weight_infos: (response.get_weights.weight_infos ?? []).filter((w) => filter.role(w.role ?? '')) } };
  const status = response.get_quota?.status;
  if (status) {
    const infos = (status.infos ?? []).filter((q) => filter.quota(q.role ?? ''));
    const configs = (status.configs ?? []).filter((q) => filter.quota(q.role ?? ''));
    return { ...response, get_quota: { ...response.get_quota, status: { ...status, infos, configs } } };
  }
  return response;
}

/** Whether an operator event may go to a subscriber with `filter`; SUBSCRIBED carries a filtered state. */
export function filterEvent(event: OperatorEvent, filter: ViewFilter, frameworkUsers: ReadonlyMap<string, string>, userOfTask: (frameworkId: string, taskId: string) => string | null): OperatorEvent | null {
  switch (event.type) {
    case 'SUBSCRIBED':
      return { ...event, subscribed: { ...event.subscribed, get_state: filterGetState(event.subscribed?.get_state ?? {}, filter, frameworkUsers) } };
    case 'TASK_ADDED':
      return filter.task(taskUser(event.task_added?.task ?? {}, frameworkUsers)) ? event : null;
    case 'TASK_UPDATED': {
      const frameworkId = event.task_updated?.framework_id?.value ?? '';
      const user = userOfTask(frameworkId, event.task_updated?.status?.task_id?.value ?? '') || frameworkUsers.get(frameworkId) || '';
      return filter.task(user) ? event : null;
    }
    case 'FRAMEWORK_ADDED':
      return filter.framework(event.framework_added?.framework?.framework_info?.user ?? '') ? event : null;
    case 'FRAMEWORK_UPDATED':
      return filter.framework(event.framework_updated?.framework?.framework_info?.user ?? '') ? event : null;
    case 'FRAMEWORK_REMOVED':
      return filter.framework(event.framework_removed?.framework_info?.user ?? '') ? event : null;
    default:
      return event;
  }
}

type Json = Record<string, unknown>;

/** The v0 model (/master/state, state-summary, frameworks, tasks) without what `filter` hides. */
export function filterV0Model(model: V0Model, filter: ViewFilter): V0Model {
  const frameworks = (list: readonly Json[]) => list.filter((fw) => filter.framework(String(fw.user ?? ''))).map((fw) => {
    const user = String(fw.user ?? '');
    const tasks = (key: string) => ((fw[key] as Json[] | undefined) ?? []).filter((t) => filter.task(String(t.user ?? user)));
    return { ...fw, tasks: tasks('tasks'), unreachable_tasks: tasks('unreachable_tasks'), completed_tasks: tasks('completed_tasks') };
  });
  return {
    ...model,
    state: { ...model.state, frameworks: frameworks(model.state.frameworks), completed_frameworks: frameworks(model.state.completed_frameworks) },
    roles: model.roles.filter((r) => filter.role(String(r.name ?? ''))),
  };
}
