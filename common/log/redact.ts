// The one redaction step every log line passes before it is written, in
// either format: fields named like a secret lose their value, and strings
// (messages, field values, error stacks) lose what looks like a credential.
// Pure, so the test can plant one of each.

export const REDACTED = '[REDACTED]';

/** Field names whose values never reach a log line, whatever their depth. */
const SECRET_KEY = /secret|password|passwd|credential|authorization|token|bearer|api[_-]?key|private[_-]?key|cookie/i;

/** zk://user:pass@host, http://user:pass@host: the password goes, the user stays (it names whose credential it was); a lone token goes. */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)(?:([^\s/@'":]+):)?[^\s/@'"]+@/gi;

const PATTERNS: readonly [RegExp, string][] = [
  // --secret=x, --jwt_secret_key x, --http_credentials=file:///...
  [/(--?[\w-]*(?:secret|password|passwd|credential|token)[\w-]*(?:=|\s+))(?!\[REDACTED\])[^\s'",]+/gi, `$1${REDACTED}`],
  // Authorization: Bearer x / Basic x
  [/\b(Bearer|Basic)\s+(?!\[REDACTED\])[A-Za-z0-9._~+/=-]+/g, `$1 ${REDACTED}`],
  // secret=x, password: x, "token":"x" inside free text
  [/\b([\w-]*(?:secret|password|passwd|token|api[_-]?key)[\w-]*)(["']?\s*[:=]\s*["']?)(?!\[REDACTED\])[^\s"',;&}]+/gi, `$1$2${REDACTED}`],
];

/**
 * What every pattern above needs somewhere in the text (case aside): one
 * scan that most strings fail, instead of four replaces each. Every log line
 * passes here, each of its strings: at 5,000 agents disconnecting the four
 * replaces were about half of the master's logging time.
 */
const MAY_HOLD_SECRET = /@|secret|passw|credential|token|api[_-]?key|bearer|basic/i;

/** `text` with credentials in URLs, flags, headers and key=value pairs replaced by [REDACTED]; the one redaction of logs, errors and /flags. */
export function redactText(text: string): string {
  return MAY_HOLD_SECRET.test(text) ? redactAll(text) : text;
}

/** redactText without the first scan (exported for the test that holds the two equal). */
export function redactAll(text: string): string {
  let out = text.replace(USERINFO, (_m, scheme: string, user: string | undefined) => `${scheme}${user !== undefined ? `${user}:` : ''}${REDACTED}@`);
  for (const [re, to] of PATTERNS) out = out.replace(re, to);
  return out;
}

/** A copy of `value` with secret fields and secret-looking text replaced by [REDACTED]. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key] = SECRET_KEY.test(key) && v !== null && v !== undefined ? REDACTED : redact(v, depth + 1);
  return out;
}
