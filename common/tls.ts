// TLS, configured as Apache Mesos configures libprocess (docs/ssl.md): the
// LIBPROCESS_SSL_* environment variables, or the same as --ssl_* flags on
// every mesos-ts process (a flag wins over the variable). `tlsConfig` reads
// and checks them once, at start-up, into a `Tls` that each transport turns
// into what it needs: gRPC credentials (common/grpc-credentials.ts), an https
// server that refuses plain text (common/tls-listener.ts) and a fetch for
// HTTP clients (common/tls-fetch.ts). Light on purpose: the commands' flag
// tables import it before --help.
//
// Differences from Mesos, on purpose: a client verifies the server's
// certificate unless told not to (Mesos does not unless told to), a server
// that requires client certificates needs LIBPROCESS_SSL_CA_FILE, and there
// is no downgrade (LIBPROCESS_SSL_SUPPORT_DOWNGRADE is refused): a TLS port
// never speaks plain text.
import { readFileSync } from 'node:fs';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { InvalidArgument } from './errors.js';

/** The --ssl_* flags; each also read from LIBPROCESS_SSL_<NAME> (the flag wins). None has a default here: unset means "ask the environment". */
export const TLS_FLAGS = {
  ssl_enabled: { type: 'boolean', help: 'speak TLS on every port and link (LIBPROCESS_SSL_ENABLED; default false)' },
  ssl_cert_file: { type: 'string', help: 'PEM certificate this process presents (LIBPROCESS_SSL_CERT_FILE); required to serve, optional for a client' },
  ssl_key_file: { type: 'string', help: "PEM private key of --ssl_cert_file (LIBPROCESS_SSL_KEY_FILE); never printed" },
  ssl_ca_file: { type: 'string', help: "PEM CA certificates to verify peers with (LIBPROCESS_SSL_CA_FILE; default: the system's)" },
  ssl_verify_server_cert: {
    type: 'boolean', help: "a client checks the server's certificate and name (LIBPROCESS_SSL_VERIFY_SERVER_CERT; default true, unlike Mesos; false still encrypts)",
  },
  ssl_require_client_cert: {
    type: 'boolean', help: 'mutual TLS: a server refuses clients without a certificate from --ssl_ca_file (LIBPROCESS_SSL_REQUIRE_CLIENT_CERT; default false)',
  },
} as const;

/** The flags' values as the flag parser gives them (undefined: not given). */
export interface TlsFlags {
  readonly ssl_enabled?: boolean | undefined;
  readonly ssl_cert_file?: string | undefined;
  readonly ssl_key_file?: string | undefined;
  readonly ssl_ca_file?: string | undefined;
  readonly ssl_verify_server_cert?: boolean | undefined;
  readonly ssl_require_client_cert?: boolean | undefined;
}

/** A checked TLS configuration, the files read. Keys stay in memory, never in a message. */
export interface Tls {
  readonly cert: Buffer | null;
  readonly key: Buffer | null;
  readonly ca: Buffer | null;
  readonly certFile: string | null;
  readonly caFile: string | null;
  readonly verifyServerCert: boolean;
  readonly requireClientCert: boolean;
}

/** Serving (master, agent) needs a certificate and key; a client (SDK, CLI) presents one only for mutual TLS. */
export type TlsRole = 'server' | 'client';

type Env = Readonly<Record<string, string | undefined>>;

/** Mesos's variables we refuse rather than ignore: obeying them half would be worse. */
const REFUSED_ENV: Readonly<Record<string, string>> = {
  LIBPROCESS_SSL_SUPPORT_DOWNGRADE: 'mesos-ts never accepts plain text on a TLS port',
  LIBPROCESS_SSL_CA_DIR: 'give the CA certificates in one PEM file, LIBPROCESS_SSL_CA_FILE',
};

/**
 * `flags` with every --ssl_* flag not given taken from its LIBPROCESS_SSL_*
 * variable, as Mesos reads them (commands call this at their edge; library
 * callers pass flags). Refuses Mesos variables we do not obey, and a
 * boolean that is not true/false/1/0.
 */
export function withTlsEnvironment<F extends TlsFlags>(flags: F, env: Env): F {
  for (const [name, why] of Object.entries(REFUSED_ENV)) {
    const value = env[name];
    if (value !== undefined && value !== '' && value !== 'false' && value !== '0') throw new InvalidArgument(`${name}=${value} is not supported: ${why}`);
  }
  const out: Record<string, unknown> = { ...(flags as object) };
  for (const [flag, spec] of Object.entries(TLS_FLAGS)) {
    const name = flag.slice('ssl_'.length);
    const value = env[envName(name)];
    if (out[flag] !== undefined || value === undefined || value.trim() === '') continue;
    out[flag] = spec.type === 'boolean' ? envBool(value, name) : value.trim();
  }
  return out as F;
}

/**
 * The checked TLS configuration `flags` give, or null when TLS is off.
 * Throws InvalidArgument naming the flag: a missing or unreadable file, a
 * key that does not match its certificate, a certificate that is not PEM,
 * mutual TLS without a CA file.
 */
export function tlsConfig(flags: TlsFlags, role: TlsRole): Tls | null {
  if (!flags.ssl_enabled) return null;
  const certFile = path(flags.ssl_cert_file);
  const keyFile = path(flags.ssl_key_file);
  const caFile = path(flags.ssl_ca_file);
  const requireClientCert = flags.ssl_require_client_cert ?? false;
  const verifyServerCert = flags.ssl_verify_server_cert ?? true;
  if (role === 'server' && (!certFile || !keyFile)) {
    throw new InvalidArgument(`TLS is enabled but ${source(!certFile ? 'cert_file' : 'key_file')} is not set: a server needs a certificate and its key`);
  }
  if ((certFile === null) !== (keyFile === null)) {
    throw new InvalidArgument(`${source('cert_file')} and ${source('key_file')} go together (a client certificate needs its key)`);
  }
  if (role === 'server' && requireClientCert && !caFile) {
    throw new InvalidArgument(`${source('require_client_cert')} needs ${source('ca_file')}: the CA whose client certificates are accepted`);
  }
  const cert = certFile ? pem(certFile, 'cert_file') : null;
  const key = keyFile ? pem(keyFile, 'key_file') : null;
  const ca = caFile ? pem(caFile, 'ca_file') : null;
  if (cert && key) checkPair(cert, key, shown(certFile!));
  if (ca) certificate(ca, source('ca_file'), shown(caFile!));
  return { cert, key, ca, certFile: certFile && shown(certFile), caFile: caFile && shown(caFile), verifyServerCert, requireClientCert };
}

/** A client command's TLS: its --ssl_* flags, else LIBPROCESS_SSL_* from `env`. */
export function clientTls(flags: TlsFlags, env: Env): Tls | null {
  return tlsConfig(withTlsEnvironment(flags, env), 'client');
}

/** The configuration a client process (SDK, CLI) gets from LIBPROCESS_SSL_* alone. */
export function tlsFromEnv(env: Env = process.env): Tls | null {
  return clientTls({}, env);
}

/** A path for messages; inline PEM is not repeated. */
const shown = (path: string) => (path.startsWith('-----BEGIN ') ? '(inline PEM)' : path);
const envName = (name: string) => `LIBPROCESS_SSL_${name.toUpperCase()}`;
const source = (name: string) => `--ssl_${name} (${envName(name)})`;

/** A path as given; file://PATH as PATH (a library caller's value has not been through the flag parser). */
function path(value: string | undefined): string | null {
  return value === undefined || value.trim() === '' ? null : value.trim().replace(/^file:\/\//, '');
}

function envBool(text: string, name: string): boolean {
  const value = text.trim().toLowerCase();
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new InvalidArgument(`${envName(name)}: '${text}' is not true or false (nor 1 or 0)`);
}

/** A PEM file's content; `path` may be the PEM itself (what the flag parser makes of --ssl_cert_file=file://PATH). */
function pem(path: string, name: string): Buffer {
  if (path.startsWith('-----BEGIN ')) return Buffer.from(path);
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (err) {
    throw new InvalidArgument(`${source(name)}: cannot read '${path}' (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`, { cause: err });
  }
  if (!data.includes('-----BEGIN ')) throw new InvalidArgument(`${source(name)}: '${path}' is not PEM (no -----BEGIN line)`);
  return data;
}

function certificate(data: Buffer, what: string, path: string): X509Certificate {
  try {
    return new X509Certificate(data);
  } catch (err) {
    throw new InvalidArgument(`${what}: '${path}' holds no readable certificate (${(err as Error).message})`, { cause: err });
  }
}

function checkPair(cert: Buffer, key: Buffer, certFile: string): void {
  const x509 = certificate(cert, source('cert_file'), certFile);
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    // The parser's message could quote the key.
    throw new InvalidArgument(`${source('key_file')}: not a readable (unencrypted) PEM private key`);
  }
  if (!x509.checkPrivateKey(privateKey)) throw new InvalidArgument(`${source('key_file')} does not match the certificate in '${certFile}'`);
}

/** Said once at start-up by a process whose TLS connections do not authenticate the server. */
export const UNVERIFIED_WARNING =
  "server certificates are not verified (LIBPROCESS_SSL_VERIFY_SERVER_CERT=false): this process's TLS connections are encrypted, but anyone on the path could pose as the server";

/** What URLs handed out for a process with `tls` start with. */
export const httpScheme = (tls: Tls | null): 'http' | 'https' => (tls ? 'https' : 'http');

/** TLS handshake failures worth a hint, by the error codes Node and OpenSSL give. */
export function tlsHint(err: unknown, tls: Tls | null): string | null {
  const text = errorChain(err);
  // grpc-js says "Failed to connect" (no errno) when the server hangs up on its plain-text HTTP/2 preface.
  if (!tls && /ECONNRESET|socket hang up|other side closed|Connection dropped|Protocol error|Failed to connect \(|this port speaks TLS/i.test(text)) {
    return 'the server may speak TLS: set LIBPROCESS_SSL_ENABLED=true (or --ssl_enabled) and its CA in LIBPROCESS_SSL_CA_FILE';
  }
  if (tls && /wrong version number|packet length too long|WRONG_VERSION_NUMBER|http request/i.test(text)) {
    return 'the server does not speak TLS; is LIBPROCESS_SSL_ENABLED set on it?';
  }
  if (tls && /certificate required|alert number 116|alert bad certificate|alert unknown ca|tlsv13 alert|other side closed|ECONNRESET|socket hang up|Connection dropped|Failed to connect \(/i.test(text)) {
    // Under TLS 1.3 a refused client certificate often shows as nothing more than the server hanging up.
    return 'the server ended the TLS connection: it may require a client certificate signed by its CA (LIBPROCESS_SSL_CERT_FILE, LIBPROCESS_SSL_KEY_FILE)';
  }
  if (tls && /self[- ]signed|unable to verify|unable to get local issuer|UNABLE_TO_VERIFY|CERT_|altnames|Hostname\/IP does not match/i.test(text)) {
    return "the server's certificate was not verified (LIBPROCESS_SSL_CA_FILE must name the CA that signed it, and the certificate the address dialled)";
  }
  return null;
}

/** An error's message with those of its causes (fetch hides the socket's reason in `cause`). */
export function errorChain(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, i = 0; e !== undefined && e !== null && i < 5; e = (e as { cause?: unknown }).cause, i++) {
    const x = e as { message?: unknown; code?: unknown; details?: unknown };
    parts.push([x.code, x.details, x.message].filter((p) => typeof p === 'string' && p !== '').join(' '));
  }
  return parts.filter((p) => p !== '').join(': ');
}
