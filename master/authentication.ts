// Authentication at the master's edge, as Apache Mesos does it
// (docs/authentication.md): off by default; each surface has its flag.
// Callers present a principal and secret (common/credentials.ts) as an
// `authorization` Basic value: gRPC metadata on every call, the HTTP
// Authorization header. Wrong or missing credentials are refused before the
// request reaches the master (gRPC UNAUTHENTICATED; HTTP 401 asking for
// Basic realm="mesos"), so nothing changes. Refusals are logged with the
// principal given, never a secret.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Metadata, UntypedServiceImplementation } from '@grpc/grpc-js';
import { AUTHORIZATION_KEY, parseCredentials } from '../common/credentials.js';
import { AUTHENTICATION_REFUSAL as REFUSAL, BasicAuthentication, authenticatedPrincipal } from '../common/http-authentication.js';
import { InvalidArgument, Unauthenticated } from '../common/errors.js';
import { toServiceError } from '../common/grpc-status.js';
import type { Logger } from '../common/log/logger.js';
import type { Call } from '../proto/index.js';
import { refuse } from './http-api/http-status.js';

export { authenticatedPrincipal };

/** Which surfaces demand credentials (the master's --authenticate_* flags). */
export interface AuthenticationPolicy {
  readonly frameworks: boolean;
  readonly agents: boolean;
  readonly httpFrameworks: boolean;
  readonly httpReadwrite: boolean;
  readonly httpReadonly: boolean;
}

export interface AuthenticationFlags {
  readonly credentials?: string | undefined;
  readonly authenticate_frameworks: boolean;
  readonly authenticate_agents: boolean;
  readonly authenticate_http_frameworks: boolean;
  readonly authenticate_http_readwrite: boolean;
  readonly authenticate_http_readonly: boolean;
}

export class MasterAuthentication {
  constructor(
    readonly policy: AuthenticationPolicy,
    private readonly basic: BasicAuthentication,
  ) {}

  /** From the flags; any --authenticate_* without --credentials is refused, as nobody could pass. */
  static fromFlags(flags: AuthenticationFlags, logger: Logger): MasterAuthentication {
    const policy: AuthenticationPolicy = {
      frameworks: flags.authenticate_frameworks, agents: flags.authenticate_agents, httpFrameworks: flags.authenticate_http_frameworks,
      httpReadwrite: flags.authenticate_http_readwrite, httpReadonly: flags.authenticate_http_readonly,
    };
    const on = Object.entries(policy).filter(([, v]) => v).map(([k]) => k);
    if (on.length > 0 && flags.credentials === undefined) {
      throw new InvalidArgument(`--credentials is required with ${on.map((k) => `--authenticate_${snake(k)}`).join(', ')}`);
    }
    const credentials = flags.credentials === undefined ? [] : parseCredentials(flags.credentials);
    return new MasterAuthentication(policy, new BasicAuthentication(credentials, logger));
  }

  /**
   * `impl` with every method refusing a call without the right credentials
   * (UNAUTHENTICATED) when `required`; the principal of an accepted call is
   * read with authenticatedPrincipal.
   */
  guard(impl: UntypedServiceImplementation, surface: string, required: boolean): UntypedServiceImplementation {
    if (!required) return impl;
    const out: UntypedServiceImplementation = {};
    for (const [method, handler] of Object.entries(impl)) {
      out[method] = ((call: CallLike, callback?: (err: unknown) => void) => {
        const principal = this.basic.authenticate(call, call.metadata.get(AUTHORIZATION_KEY)[0]?.toString(), `${surface}/${method}`);
        if (principal === null) {
          const error = toServiceError(new Unauthenticated(REFUSAL));
          if (callback) return callback(error);
          return void call.emit('error', error);
        }
        return (handler as (c: CallLike, cb?: unknown) => void)(call, callback);
      }) as UntypedServiceImplementation[string];
    }
    return out;
  }

  /**
   * The HTTP route checking credentials before every other route: answers 401
   * (and takes the request) when the request's realm demands credentials it
   * lacks; else remembers the principal (authenticatedPrincipal) and passes on.
   */
  httpHandler(): (req: IncomingMessage, res: ServerResponse, path: string) => boolean {
    return (req, res, path) => {
      const realm = realmOf(req.method ?? 'GET', path);
      if (realm === null || !this.required(realm)) return false;
      const principal = this.basic.authenticate(req, req.headers.authorization, `${req.method} ${path}`);
      if (principal !== null) return false;
      refuse(res, new Unauthenticated(REFUSAL)); // 401 asking for Basic realm="mesos"
      return true;
    };
  }

  private required(realm: HttpRealm): boolean {
    return realm === 'frameworks' ? this.policy.httpFrameworks : realm === 'readwrite' ? this.policy.httpReadwrite : this.policy.httpReadonly;
  }
}

interface CallLike {
  readonly metadata: Metadata;
  emit(event: 'error', error: unknown): boolean;
}

export type HttpRealm = 'frameworks' | 'readwrite' | 'readonly';

const SCHEDULER_PATHS = new Set(['/api/v1/scheduler', '/master/api/v1/scheduler']);
const OPERATOR_PATHS = new Set(['/api/v1', '/master/api/v1']);
/** Open to all as in Mesos: health checks, the version, the web UI's own files (its data comes from the read-only endpoints). */
const OPEN_PATHS = new Set(['/health', '/master/health', '/version', '/', '/index.html']);

/** Which flag guards a request: the scheduler API, the operator API and every write, every other read; null for the open paths. */
export function realmOf(method: string, path: string): HttpRealm | null {
  if (SCHEDULER_PATHS.has(path)) return 'frameworks';
  if (OPERATOR_PATHS.has(path)) return 'readwrite';
  if (method !== 'GET' && method !== 'HEAD') return 'readwrite';
  // The web UI's agent proxy reads sandboxes: it is a read like /master/state (and the agent checks the credentials it passes on).
  if (OPEN_PATHS.has(path) || (path.startsWith('/ui/') && !path.startsWith('/ui/agent/'))) return null;
  return 'readonly';
}

/**
 * SUBSCRIBE from an authenticated framework: FrameworkInfo.principal must be
 * the authenticated one (Mesos refuses a mismatch) and is set to it when
 * left out.
 */
export function withAuthenticatedPrincipal(call: Call, principal: string | null): Call {
  const subscribe = call.subscribe;
  const info = subscribe?.framework_info;
  if (principal === null || !subscribe || !info) return call;
  if (info.principal && info.principal !== principal) {
    throw new InvalidArgument(`Authenticated principal '${principal}' does not match principal '${info.principal}' set in FrameworkInfo`);
  }
  return { ...call, subscribe: { ...subscribe, framework_info: { ...info, principal } } };
}

/** A later call of an authenticated framework: it must come from the principal the framework subscribed as (else another client could act for it). */
export function checkCallPrincipal(frameworkPrincipal: string | undefined, principal: string | null): void {
  if (principal === null || !frameworkPrincipal || frameworkPrincipal === principal) return;
  throw new InvalidArgument(`Authenticated principal '${principal}' does not match principal '${frameworkPrincipal}' set in FrameworkInfo`);
}

const snake = (camel: string) => camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
