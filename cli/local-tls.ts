// `mesos-ts local --ssl` (or LIBPROCESS_SSL_ENABLED=true): the local cluster
// with mutual TLS. Certificates come from LIBPROCESS_SSL_CERT_FILE and the
// rest when they are set, else from scripts/make-certs.sh (a local CA, a
// server and a client certificate) in --certs_dir or the run's own
// directory. Masters and agents serve with the server certificate and
// require client certificates; the demo presents the client certificate.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
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

/** The cluster's TLS, or null without --ssl and LIBPROCESS_SSL_ENABLED; certificates made in `certsDir` when the environment names none. */
export function localTls(ssl: boolean, env: Readonly<Record<string, string | undefined>>, certsDir: string, say: (line: string) => void): LocalTls | null {
  const fromEnv = withTlsEnvironment<TlsFlags>({}, env);
  if (!ssl && !fromEnv.ssl_enabled) return null;
  if (fromEnv.ssl_cert_file !== undefined) {
    // The user's own certificates: every process serves with them and presents them.
    const server = { ...fromEnv, ssl_enabled: true };
    tlsConfig(server, 'server');
    const clientEnv = Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith('LIBPROCESS_SSL_') && v !== undefined)) as Record<string, string>;
    return { server, client: clientTls({ ssl_enabled: true }, env)!, clientEnv: { ...clientEnv, LIBPROCESS_SSL_ENABLED: 'true' } };
  }
  const script = SCRIPTS.find((p) => existsSync(p));
  if (!script) throw new InvalidArgument('--ssl: scripts/make-certs.sh is not here (it is not in the npm package); set LIBPROCESS_SSL_CERT_FILE, _KEY_FILE and _CA_FILE instead');
  execFileSync('bash', [script, certsDir], { stdio: ['ignore', 'ignore', 'inherit'] });
  say(`mutual TLS on: a local CA and certificates in ${certsDir} (scripts/make-certs.sh)`);
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
