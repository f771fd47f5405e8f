// `mesos-ts local --ssl` (or LIBPROCESS_SSL_ENABLED=true): the local cluster
// with mutual TLS. Certificates come from LIBPROCESS_SSL_CERT_FILE and the
// rest when they are set, else from scripts/make-certs.sh (a local CA, a
// server and a client certificate) in --certs_dir or the run's own
// directory. Masters and agents serve with the server certificate and
// require client certificates; the demo presents the client certificate.
// On simulated hosts (--hosts) every process listens on its host's address:
// the certificates made then name those addresses too, and certificates
// given (or kept in --certs_dir) that do not name one are refused up front,
// rather than every connection failing its handshake.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgument } from '../common/errors.js';
import { clientTls, tlsConfig, withTlsEnvironment, type Tls, type TlsFlags } from '../common/tls.js';

export interface LocalTls {
  /** The --ssl_* flags every master and agent starts with. */
  readonly server: TlsFlags;
  /** What the demo (and the leader watch) present. */
  readonly client: Tls;
  /** The environment a shell needs to reach this cluster with the CLI, for the user. */
  readonly clientEnv: Readonly<Record<string, string>>;
}

// dist/cli/ when built, cli/ from source; the script is not in the npm package.
const SCRIPTS = [new URL('../../scripts/make-certs.sh', import.meta.url), new URL('../scripts/make-certs.sh', import.meta.url)].map((u) => fileURLToPath(u));

/**
 * The cluster's TLS, or null without --ssl and LIBPROCESS_SSL_ENABLED; certificates made in `certsDir` when the environment names none.
 * `addresses`: IP addresses the processes listen on besides 127.0.0.1, which the server certificate must name.
 */
export function localTls(
  ssl: boolean, env: Readonly<Record<string, string | undefined>>, certsDir: string, say: (line: string) => void, addresses: readonly string[] = [],
): LocalTls | null {
  const fromEnv = withTlsEnvironment<TlsFlags>({}, env);
  if (!ssl && !fromEnv.ssl_enabled) return null;
  if (fromEnv.ssl_cert_file !== undefined) {
    // The user's own certificates: every process serves with them and presents them.
    const server = { ...fromEnv, ssl_enabled: true };
    tlsConfig(server, 'server');
    checkNames(fromEnv.ssl_cert_file, addresses, 'LIBPROCESS_SSL_CERT_FILE');
    const clientEnv = Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith('LIBPROCESS_SSL_') && v !== undefined)) as Record<string, string>;
    return { server, client: clientTls({ ssl_enabled: true }, env)!, clientEnv: { ...clientEnv, LIBPROCESS_SSL_ENABLED: 'true' } };
  }
  const script = SCRIPTS.find((p) => existsSync(p));
  if (!script) throw new InvalidArgument('--ssl: scripts/make-certs.sh is not here (it is not in the npm package); set LIBPROCESS_SSL_CERT_FILE, _KEY_FILE and _CA_FILE instead');
  const san = [env.MESOS_TS_CERT_SAN, ...addresses.map((a) => `IP:${a}`)].filter((s) => s).join(',');
  execFileSync('bash', [script, certsDir], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...env, MESOS_TS_CERT_SAN: san } });
  checkNames(join(certsDir, 'server.pem'), addresses, '--certs_dir');
  const naming = addresses.length ? `, naming 127.0.0.1 and ${addresses.length} host address${addresses.length === 1 ? '' : 'es'}` : '';
  say(`mutual TLS on: a local CA and certificates in ${certsDir} (scripts/make-certs.sh${naming})`);
  const ca = join(certsDir, 'ca.pem');
  const server: TlsFlags = {
    ssl_enabled: true, ssl_cert_file: join(certsDir, 'server.pem'), ssl_key_file: join(certsDir, 'server.key'), ssl_ca_file: ca,
    ssl_require_client_cert: true, ssl_verify_server_cert: true,
  };
  const clientEnv = {
    LIBPROCESS_SSL_ENABLED: 'true', LIBPROCESS_SSL_CA_FILE: ca,
    LIBPROCESS_SSL_CERT_FILE: join(certsDir, 'client.pem'), LIBPROCESS_SSL_KEY_FILE: join(certsDir, 'client.key'),
  };
  return { server, client: clientTls({}, clientEnv)!, clientEnv };
}

/** Throws, naming the file and the address, unless the certificate names every address (subjectAltName IP). */
function checkNames(certFile: string, addresses: readonly string[], from: string): void {
  if (addresses.length === 0) return;
  const cert = new X509Certificate(readFileSync(certFile));
  const missing = addresses.filter((a) => cert.checkIP(a) === undefined);
  if (missing.length > 0) {
    throw new InvalidArgument(
      `--ssl: the certificate ${certFile} (from ${from}) does not name ${missing.join(', ')}, where processes of this run listen; `
      + 'let the run make its own (no --certs_dir, no LIBPROCESS_SSL_CERT_FILE) or add them with MESOS_TS_CERT_SAN',
    );
  }
}
