// Authentication and authorization on the agent's HTTP endpoints, as a Mesos
// agent does them (its --authenticate_http_readonly,
// --authenticate_http_readwrite, --http_credentials and --acls):
//
//   request ─> realm of the path (open / readonly / readwrite)
//           ─> credentials demanded by that realm's flag? missing or wrong: 401 Basic realm="mesos"
//           ─> get_endpoints (/containers, /monitor/statistics, /metrics/snapshot, /files/debug),
//              view_flags (/flags): 403 when refused
//           ─> the route; /files/* and READ_FILE / LIST_FILES then ask access_sandboxes
//              about the sandbox's task user (sandboxRefusal); /state and the agent API's
//              state calls show only what view_frameworks / view_tasks / view_executors allow (viewOf)
//
// The principal is the authenticated one, or none (an unauthenticated
// caller, matched only by ANY in the ACLs).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { realpathSync } from 'node:fs';
import { sep } from 'node:path';
import { allowsAll, authorize, refusal, NO_ACLS, parseAcls, type AclAction, type Acls } from '../common/acls.js';
import type { FrameworkInfoOut } from '../proto/index.js';
import { parseCredentials } from '../common/credentials.js';
import { InvalidArgument, PermissionDenied, Unauthenticated } from '../common/errors.js';
import { AUTHENTICATION_REFUSAL, BasicAuthentication, authenticatedPrincipal } from '../common/http-authentication.js';
import type { Logger } from '../common/log/logger.js';
import { refuse } from '../master/http-api/http-status.js';
import type { TaskRunner } from './task-runner.js';

/** What one caller may see of frameworks (view_frameworks, by FrameworkInfo.user) and tasks (view_tasks and view_executors, by the task's user: each task is its own executor here). */
export interface AgentView {
  framework(info: FrameworkInfoOut): boolean;
  runner(r: TaskRunner): boolean;
}

export interface AgentSecurityFlags {
  readonly acls?: string | undefined;
  readonly http_credentials?: string | undefined;
  readonly authenticate_http_readonly: boolean;
  readonly authenticate_http_readwrite: boolean;
}

/** The actions an agent enforces; other rules in its --acls are named in a warning at start-up. */
export const AGENT_ACTIONS: ReadonlySet<AclAction> = new Set<AclAction>(['access_sandboxes', 'get_endpoints', 'view_flags', 'view_frameworks', 'view_tasks', 'view_executors']);

/** Open as on a Mesos agent: health checks and the version. */
const OPEN_PATHS = new Set(['/health', '/version']);
const API_PATHS = new Set(['/api/v1']);
/** The agent endpoints Mesos puts under get_endpoints. */
const GET_ENDPOINTS = new Set(['/containers', '/monitor/statistics', '/metrics/snapshot', '/metrics', '/files/debug']);

export class AgentHttpSecurity {
  private constructor(
    readonly acls: Acls,
    private readonly basic: BasicAuthentication | null,
    private readonly readonly: boolean,
    private readonly readwrite: boolean,
    private readonly logger: Logger,
  ) {}

  /** From the flags: an --authenticate_http_* without --http_credentials is refused, as nobody could pass. */
  static fromFlags(flags: AgentSecurityFlags, logger: Logger): AgentHttpSecurity {
    const on = [flags.authenticate_http_readonly && '--authenticate_http_readonly', flags.authenticate_http_readwrite && '--authenticate_http_readwrite'].filter(Boolean);
    if (on.length > 0 && flags.http_credentials === undefined) throw new InvalidArgument(`--http_credentials is required with ${on.join(', ')}`);
    const basic = flags.http_credentials === undefined ? null : new BasicAuthentication(parseCredentials(flags.http_credentials, 'http_credentials'), logger.child({ component: 'authentication' }));
    const acls = flags.acls === undefined || flags.acls.trim() === '' ? NO_ACLS : parseAcls(flags.acls);
    const ignored = [...acls.rules.keys()].filter((a) => !AGENT_ACTIONS.has(a));
    if (ignored.length > 0) logger.warn({ actions: ignored }, `--acls: the agent does not enforce ${ignored.join(', ')}; those rules are ignored here (the master enforces most)`);
    return new AgentHttpSecurity(acls, basic, flags.authenticate_http_readonly, flags.authenticate_http_readwrite, logger.child({ component: 'authorization' }));
  }

  /**
   * Checks a request before its route: answers it (401, 403) and returns
   * true when it is refused; else remembers its principal and returns false.
   */
  refused(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    if (OPEN_PATHS.has(path)) return false;
    const demanded = API_PATHS.has(path) ? this.readwrite : this.readonly;
    if (demanded) {
      const principal = this.basic!.authenticate(req, req.headers.authorization, `${req.method} ${path}`);
      if (principal === null) {
        refuse(res, new Unauthenticated(AUTHENTICATION_REFUSAL)); // 401 asking for Basic realm="mesos"
        return true;
      }
    }
    const principal = authenticatedPrincipal(req);
    const who = principal === null ? 'a caller without principal' : `principal '${principal}'`;
    const denied = path === '/flags'
      ? refusal(this.acls, 'view_flags', principal, null, `view the flags as ${who}`)
      : GET_ENDPOINTS.has(path) ? refusal(this.acls, 'get_endpoints', principal, path, `GET '${path}' as ${who}`) : null;
    if (denied === null) return false;
    this.logger.warn({ principal, path }, denied);
    refuse(res, new PermissionDenied(denied));
    return true;
  }

  /** What the request's principal may see of frameworks and tasks; undefined when it sees everything (answers are then shared and cached). */
  viewOf(req: object): AgentView | undefined {
    if (allowsAll(this.acls, 'view_frameworks') && allowsAll(this.acls, 'view_tasks') && allowsAll(this.acls, 'view_executors')) return undefined;
    const principal = authenticatedPrincipal(req);
    const may = (action: AclAction, user: string) => authorize(this.acls, action, principal, user).allowed;
    return {
      framework: (info) => may('view_frameworks', info.user ?? ''),
      runner: (r) => {
        const user = r.task.command?.user || r.framework.user || '';
        return may('view_tasks', user) && may('view_executors', user);
      },
    };
  }

  /** GET_FLAGS on the agent API: throws PermissionDenied when view_flags refuses the caller. */
  flagsRefusal(req: object): void {
    const principal = authenticatedPrincipal(req);
    const denied = refusal(this.acls, 'view_flags', principal, null, `view the flags as ${principal === null ? 'a caller without principal' : `principal '${principal}'`}`);
    if (denied !== null) throw new PermissionDenied(denied);
  }

  /**
   * access_sandboxes for a request: given the real path a /files request
   * resolved to, why it is refused, or null. The object is the user of the
   * task owning the sandbox (CommandInfo.user, else FrameworkInfo.user); a
   * sandbox of a task this agent no longer lists has no known user and is
   * refused unless the ACLs allow every sandbox to everyone.
   */
  sandboxRefusal(req: object, runners: () => Iterable<TaskRunner>): ((real: string) => string | null) | undefined {
    if (allowsAll(this.acls, 'access_sandboxes')) return undefined;
    const principal = authenticatedPrincipal(req);
    const who = principal === null ? 'a caller without principal' : `principal '${principal}'`;
    return (real) => {
      const owner = ownerOf(real, runners());
      if (!owner) return `Not authorized to access a sandbox of a task this agent no longer lists as ${who} (ACL access_sandboxes)`;
      const user = owner.task.command?.user || owner.framework.user || '';
      return refusal(this.acls, 'access_sandboxes', principal, user, `access the sandbox of task ${owner.taskId} (user '${user}') as ${who}`);
    };
  }
}

function ownerOf(real: string, runners: Iterable<TaskRunner>): TaskRunner | null {
  for (const r of runners) {
    for (const dir of [r.sandbox, realOrNull(r.sandbox)]) {
      if (dir !== null && (real === dir || real.startsWith(dir + sep))) return r;
    }
  }
  return null;
}

function realOrNull(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}
