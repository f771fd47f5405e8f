// HTTP basic authentication as master and agent both do it (Mesos's `basic`
// HTTP authenticator): a request's Authorization header checked against the
// daemon's credentials, a refusal logged with the principal given (never a
// secret), and the principal of an accepted request or gRPC call kept for
// the authorization that follows (authenticatedPrincipal).
import { Authenticator, readBasic, type Credential } from './credentials.js';
import type { Logger } from './log/logger.js';

/** Calls and requests that passed authentication, with their principal. */
const principals = new WeakMap<object, string>();

/** The principal a gRPC call or HTTP request proved, or null (authentication off for it, or not yet checked). */
export function authenticatedPrincipal(callOrRequest: object): string | null {
  return principals.get(callOrRequest) ?? null;
}

/** What a refused caller is told: never which part was wrong. */
export const AUTHENTICATION_REFUSAL = 'authentication failed: missing or wrong credentials';

export class BasicAuthentication {
  private readonly authenticator: Authenticator;

  constructor(credentials: readonly Credential[], private readonly logger: Logger) {
    this.authenticator = new Authenticator(credentials);
  }

  /** The principal an Authorization value proves, or null (logged, with `surface`). */
  principalOf(authorization: string | undefined, surface: string): string | null {
    const given = readBasic(authorization);
    const principal = this.authenticator.authenticate(given);
    if (principal === null) {
      const named = given?.principal.slice(0, 100) ?? null;
      const who = named !== null ? `principal '${named}'` : 'a caller without credentials';
      this.logger.warn({ surface, principal: named }, `authentication failed on ${surface}: ${who}`);
    }
    return principal;
  }

  /** principalOf, remembered for `callOrRequest` when it is proved. */
  authenticate(callOrRequest: object, authorization: string | undefined, surface: string): string | null {
    const principal = this.principalOf(authorization, surface);
    if (principal !== null) principals.set(callOrRequest, principal);
    return principal;
  }
}
