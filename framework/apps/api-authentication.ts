// HTTP basic authentication on the apps REST API, as Marathon's
// --http_credentials and --http_realm: once credentials are set, every path
// demands them (Marathon maps its constraint to "/*": /ping, /metrics and
// /v2/leader included), and a standby checks them before it redirects. The
// value is Marathon's `user:password`, or our credentials format
// (docs/authentication.md: JSON, "principal secret" lines, or a file of
// either) for several principals. Secrets are compared in constant time
// (common/credentials.ts) and never named in a message.
import { readFileSync } from 'node:fs';
import { parseCredentials, type Credential } from '../../common/credentials.js';
import { InvalidArgument } from '../../common/errors.js';
import { BasicAuthentication } from '../../common/http-authentication.js';
import type { Logger } from '../../common/log/logger.js';

export const API_AUTHENTICATION_FLAGS = {
  http_credentials: {
    type: 'string',
    help: "the REST API demands HTTP basic authentication: Marathon's USER:PASSWORD, or a credentials file (JSON or \"principal secret\" lines, as the agent's --http_credentials); also MESOSPHERE_HTTP_CREDENTIALS",
  },
  http_realm: { type: 'string', default: 'Mesosphere', help: 'the realm a 401 names in WWW-Authenticate (Marathon\'s default)' },
} as const;

/** Marathon's environment variable for --http_credentials, read when neither the flag nor MESOS_TS_HTTP_CREDENTIALS is set. */
export const MARATHON_CREDENTIALS_ENV = 'MESOSPHERE_HTTP_CREDENTIALS';

/** What the REST API asks of a request. */
export interface ApiAuthentication {
  readonly realm: string;
  /** The principal the Authorization header proves, or null (the refusal is logged). */
  principalOf(authorization: string | undefined): string | null;
}

/** Marathon's form: a user without ':', then ':' and a non-empty password; one token, not a path. */
const USER_PASSWORD = /^([^\s:/{][^\s:]*):(\S+)$/;

/**
 * The credentials --http_credentials gives: `user:password`, or our format
 * inline or in a file (a path or file://PATH) whose content may itself be
 * `user:password`. Errors name the flag, never the secret.
 */
export function parseHttpCredentials(value: string): Credential[] {
  const text = value.trim();
  if (text === '') throw new InvalidArgument('--http_credentials: empty');
  const isPath = text.startsWith('file://') || text.startsWith('/') || !/[\s:{]/.test(text);
  if (isPath) {
    const path = text.startsWith('file://') ? text.slice('file://'.length) : text;
    let content: string;
    try {
      content = readFileSync(path, 'utf8');
    } catch (err) {
      throw new InvalidArgument(`--http_credentials: cannot read file '${path}' (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`, { cause: err });
    }
    return fromText(content.trim());
  }
  return fromText(text);
}

function fromText(text: string): Credential[] {
  if (text.startsWith('{')) return parseCredentials(text, 'http_credentials');
  const first = text.split(/\s/, 1)[0]!;
  // Marathon's form, or a mistake in it: never handed to the other parser, whose messages quote a principal.
  if (first.includes(':') || !/\s/.test(text)) {
    const m = USER_PASSWORD.exec(text);
    if (!m) throw new InvalidArgument("--http_credentials: expected USER:PASSWORD (a user without ':', a password without spaces), a credentials file, or JSON {\"credentials\":[...]}");
    return [{ principal: m[1]!, secret: m[2]! }];
  }
  return parseCredentials(text, 'http_credentials');
}

/** The authentication the flags ask for, or null when --http_credentials is not set. */
export function apiAuthentication(
  flags: { readonly http_credentials?: string | undefined; readonly http_realm: string },
  env: Readonly<Record<string, string | undefined>>,
  logger: Logger,
): ApiAuthentication | null {
  const value = flags.http_credentials ?? env[MARATHON_CREDENTIALS_ENV];
  if (value === undefined) return null;
  // The realm goes inside a quoted header value.
  if (!/^[\x20-\x7e]+$/.test(flags.http_realm) || /["\\]/.test(flags.http_realm)) {
    throw new InvalidArgument(`--http_realm must be printable ASCII without '"' or '\\', got '${flags.http_realm}'`);
  }
  const basic = new BasicAuthentication(parseHttpCredentials(value), logger);
  return { realm: flags.http_realm, principalOf: (authorization) => basic.principalOf(authorization, 'apps REST API') };
}
