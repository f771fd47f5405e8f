// Certificates for TLS tests, made by scripts/make-certs.sh (the script the
// demo and compose use) into a temporary directory: a CA, a server
// certificate and a client certificate, all naming 127.0.0.1 and localhost.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../scripts/make-certs.sh', import.meta.url));

export interface Certs {
  readonly dir: string;
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

/** A fresh CA and certificates in a new directory under the system's temp dir (the caller removes it). */
export function makeCerts(prefix = 'mesos-ts-certs-'): Certs {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  execFileSync('bash', [SCRIPT, dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  return {
    dir, ca: join(dir, 'ca.pem'), serverCert: join(dir, 'server.pem'), serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.pem'), clientKey: join(dir, 'client.key'),
  };
}

/** The LIBPROCESS_SSL_* environment of a process serving with `certs`, mutual TLS on (every process of a test cluster takes the same). */
export function mtlsEnv(certs: Certs): Record<string, string> {
  return {
    LIBPROCESS_SSL_ENABLED: 'true', LIBPROCESS_SSL_CERT_FILE: certs.serverCert, LIBPROCESS_SSL_KEY_FILE: certs.serverKey,
    LIBPROCESS_SSL_CA_FILE: certs.ca, LIBPROCESS_SSL_VERIFY_SERVER_CERT: 'true', LIBPROCESS_SSL_REQUIRE_CLIENT_CERT: 'true',
  };
}
