// Credentials as Apache Mesos takes them (docs/authentication.md): the
// master's --credentials file lists every principal and its secret, as JSON
// {"credentials":[{"principal":..,"secret":..}]} or as text lines
// "principal secret"; an agent's --credential (and a scheduler's) is one
// {"principal":..,"secret":..} or one such line. Both ride in an
// `Authorization: Basic` value, over HTTP as a header and over gRPC as
// metadata. Secrets are compared in constant time and never named in an
// error message.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { InvalidArgument } from './errors.js';

/** A principal and its secret, presented to a master that authenticates (Mesos's Credential). */
export interface Credential {
  readonly principal: string;
  readonly secret: string;
}

/** The metadata key (gRPC) and header (HTTP) that carry a credential. */
export const AUTHORIZATION_KEY = 'authorization';

/** A flag value that is the credentials themselves (inline, or already read through file://) or else a path (or file://PATH) to a file holding them, as Mesos takes a path. */
function contentOf(value: string, flag: string): string {
  const text = value.trim();
  if (text.startsWith('{') || /\s/.test(text)) return text;
  // A library caller's value has not been through the flag parser, which reads file:// itself.
  const path = text.startsWith('file://') ? text.slice('file://'.length) : text;
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new InvalidArgument(`--${flag}: cannot read file '${path}' (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`, { cause: err });
  }
}

/** The master's --credentials: JSON or "principal secret" lines; at least one. */
export function parseCredentials(value: string, flag = 'credentials'): Credential[] {
  const text = contentOf(value, flag);
  let list: Credential[];
  if (text.startsWith('{')) {
    const parsed = parseJson(text, flag) as { credentials?: unknown };
    if (!Array.isArray(parsed.credentials)) throw new InvalidArgument(`--${flag}: expected {"credentials":[{"principal":..,"secret":..}]}`);
    list = parsed.credentials.map((c, i) => checked(c, `--${flag}: credentials[${i}]`));
  } else {
    list = text.split(/\r?\n/).filter((l) => l.trim() !== '').map((line, i) => fromLine(line, `--${flag}: line ${i + 1}`));
  }
  if (list.length === 0) throw new InvalidArgument(`--${flag}: no credentials`);
  return list;
}

/** One credential (the agent's --credential, a scheduler's credential file): JSON or a "principal secret" line. */
export function parseCredential(value: string, flag = 'credential'): Credential {
  const text = contentOf(value, flag);
  return text.startsWith('{') ? checked(parseJson(text, flag), `--${flag}`) : fromLine(text, `--${flag}`);
}

function parseJson(text: string, flag: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // The parser's message may quote the text, and the text holds secrets.
    throw new InvalidArgument(`--${flag}: not valid JSON`);
  }
}

function checked(value: unknown, where: string): Credential {
  const c = value as Partial<Record<keyof Credential, unknown>> | null;
  if (typeof c?.principal !== 'string' || c.principal === '') throw new InvalidArgument(`${where}: "principal" must be a non-empty string`);
  if (typeof c.secret !== 'string') throw new InvalidArgument(`${where}: "secret" must be a string (principal '${c.principal}')`);
  if (c.principal.includes(':')) throw new InvalidArgument(`${where}: principal '${c.principal}' may not contain ':' (basic authentication)`);
  return { principal: c.principal, secret: c.secret };
}

function fromLine(line: string, where: string): Credential {
  const parts = line.trim().split(/\s+/);
  if (parts.length !== 2) throw new InvalidArgument(`${where}: expected "principal secret"`);
  return checked({ principal: parts[0], secret: parts[1] }, where);
}

/** A credential as the value of an Authorization header or metadata entry. */
export function basicAuthorization(credential: Credential): string {
  return `Basic ${Buffer.from(`${credential.principal}:${credential.secret}`, 'utf8').toString('base64')}`;
}

/** The credential an Authorization value carries, or null when there is none or it is not Basic. */
export function readBasic(value: string | undefined): Credential | null {
  const m = value === undefined ? null : /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(value);
  if (!m) return null;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : { principal: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** The master's credentials, kept as SHA-256 digests and compared in constant time. */
export class Authenticator {
  private readonly entries: readonly { readonly principal: Buffer; readonly secret: Buffer; readonly name: string }[];

  constructor(credentials: readonly Credential[]) {
    this.entries = credentials.map((c) => ({ principal: digest(c.principal), secret: digest(c.secret), name: c.principal }));
  }

  /** The principal `given` proves, or null. Every entry is compared, in constant time, whatever matches. */
  authenticate(given: Credential | null): string | null {
    if (!given) return null;
    const principal = digest(given.principal);
    const secret = digest(given.secret);
    let found: string | null = null;
    for (const entry of this.entries) {
      const samePrincipal = timingSafeEqual(entry.principal, principal);
      const sameSecret = timingSafeEqual(entry.secret, secret);
      if (samePrincipal && sameSecret && found === null) found = entry.name;
    }
    return found;
  }
}

/** Flags whose value is, or may be, a secret (--credentials, --credential, --secret, --ssl_key_file, ...). */
const SECRET_FLAG = /secret|credential|password|token|ssl_key/i;

/**
 * A flag's value as /flags and GET_FLAGS show it: a path to a credentials
 * file as Mesos shows it; a secret, or credentials given inline or read
 * through file://, never.
 */
export function shownFlagValue(name: string, value: string): string {
  if (!SECRET_FLAG.test(name)) return value;
  return /^[^\s{]+$/.test(value) && value.includes('/') && !/secret/i.test(name) ? value : '[REDACTED]';
}

/** The flags a scheduler-side command (execute, demo, the operator CLI) takes to present a credential. */
export const CLIENT_CREDENTIAL_FLAGS = {
  principal: { type: 'string', help: 'principal to authenticate as (with --secret), for a master that authenticates' },
  secret: { type: 'string', help: "the principal's secret (file://PATH reads it from a file); never printed" },
  credential: { type: 'string', help: 'instead of --principal/--secret: a credential file, JSON {"principal":"P","secret":"S"} or a line "principal secret"' },
} as const;

/** The credential those flags give, or undefined; a principal without a secret (or the reverse) is refused. */
export function clientCredential(flags: { readonly principal?: string | undefined; readonly secret?: string | undefined; readonly credential?: string | undefined }): Credential | undefined {
  if (flags.credential !== undefined) {
    if (flags.principal !== undefined || flags.secret !== undefined) throw new InvalidArgument('--credential excludes --principal and --secret');
    return parseCredential(flags.credential);
  }
  if (flags.principal === undefined && flags.secret === undefined) return undefined;
  if (flags.principal === undefined || flags.secret === undefined) throw new InvalidArgument('--principal and --secret go together');
  return checked({ principal: flags.principal, secret: flags.secret }, '--principal');
}
