// TLS configuration as Mesos takes it (LIBPROCESS_SSL_*) and as --ssl_*
// flags: which wins, the defaults we chose, and every refusal naming what
// is wrong without printing a key.
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clientTls, tlsConfig, tlsHint, withTlsEnvironment } from '../../common/tls.js';
import { InvalidArgument } from '../../common/errors.js';
import { parseFlags } from '../../common/flags.js';
import { shownFlagValue } from '../../common/credentials.js';
import { MASTER_FLAGS, MASTER_PARSE } from '../../master/flags.js';
import { makeCerts } from '../harness/certs.js';
import { parseExecuteArgs } from '../../framework/cli/execute.js';

const certs = makeCerts();
const other = makeCerts();
afterAll(() => {
  rmSync(certs.dir, { recursive: true, force: true });
  rmSync(other.dir, { recursive: true, force: true });
});

const server = { ssl_enabled: true, ssl_cert_file: certs.serverCert, ssl_key_file: certs.serverKey };

describe('tlsConfig', () => {
  it('is off unless enabled, whatever else is set', () => {
    expect(tlsConfig({ ssl_cert_file: '/nowhere' }, 'server')).toBeNull();
    expect(clientTls({}, { LIBPROCESS_SSL_CERT_FILE: '/nowhere' })).toBeNull();
  });

  it('reads a server configuration; clients verify the server by default, servers do not require client certificates', () => {
    const tls = tlsConfig(server, 'server')!;
    expect(tls.cert?.toString()).toContain('BEGIN CERTIFICATE');
    expect(tls).toMatchObject({ verifyServerCert: true, requireClientCert: false, certFile: certs.serverCert, ca: null });
  });

  it('takes LIBPROCESS_SSL_* and lets a flag win over its variable', () => {
    const env = {
      LIBPROCESS_SSL_ENABLED: '1', LIBPROCESS_SSL_CA_FILE: certs.ca, LIBPROCESS_SSL_VERIFY_SERVER_CERT: 'false',
      LIBPROCESS_SSL_CERT_FILE: certs.clientCert, LIBPROCESS_SSL_KEY_FILE: certs.clientKey,
    };
    expect(clientTls({}, env)).toMatchObject({ verifyServerCert: false, caFile: certs.ca, certFile: certs.clientCert });
    expect(clientTls({ ssl_verify_server_cert: true }, env)?.verifyServerCert).toBe(true);
    expect(clientTls({ ssl_enabled: false }, env)).toBeNull();
  });

  it('is what --ssl_* flags and MESOS_SSL_* give a master, file:// PEM included', () => {
    const flags = parseFlags(MASTER_FLAGS, ['--ssl_enabled', `--ssl_cert_file=file://${certs.serverCert}`, `--ssl_key_file=${certs.serverKey}`], {
      ...MASTER_PARSE, env: { MESOS_SSL_REQUIRE_CLIENT_CERT: 'true', MESOS_SSL_CA_FILE: certs.ca },
    });
    const tls = tlsConfig(withTlsEnvironment(flags, { LIBPROCESS_SSL_REQUIRE_CLIENT_CERT: 'false' }), 'server')!;
    expect(tls).toMatchObject({ requireClientCert: true, caFile: certs.ca, certFile: '(inline PEM)' });
  });

  it('a client presents no certificate unless given one', () => {
    expect(clientTls({ ssl_enabled: true }, {})).toMatchObject({ cert: null, key: null, verifyServerCert: true });
  });

  const bad = join(certs.dir, 'not-pem.txt');
  writeFileSync(bad, 'hello\n');
  const strangerKey = join(certs.dir, 'stranger.key');
  copyFileSync(other.serverKey, strangerKey);
  it.each([
    ['no certificate to serve with', { ssl_enabled: true }, /--ssl_cert_file \(LIBPROCESS_SSL_CERT_FILE\) is not set/],
    ['a certificate without its key', { ssl_enabled: true, ssl_cert_file: certs.serverCert }, /--ssl_key_file \(LIBPROCESS_SSL_KEY_FILE\) is not set/],
    ['a missing file', { ...server, ssl_cert_file: '/nonexistent/cert.pem' }, /--ssl_cert_file.*cannot read '\/nonexistent\/cert.pem' \(ENOENT\)/],
    ['a file that is not PEM', { ...server, ssl_ca_file: bad }, /--ssl_ca_file.*'.*not-pem.txt' is not PEM/],
    ['a key that does not match', { ...server, ssl_key_file: strangerKey }, /--ssl_key_file \(LIBPROCESS_SSL_KEY_FILE\) does not match the certificate in/],
    ['mutual TLS without a CA', { ...server, ssl_require_client_cert: true }, /--ssl_require_client_cert.*needs --ssl_ca_file/],
  ])('refuses %s', (_what, flags, message) => {
    expect(() => tlsConfig(flags, 'server')).toThrow(InvalidArgument);
    expect(() => tlsConfig(flags, 'server')).toThrow(message);
  });

  it('never puts a key in a message', () => {
    const keyText = 'MIIE' + 'x'.repeat(64);
    const keyFile = join(certs.dir, 'garbage.key');
    writeFileSync(keyFile, `-----BEGIN PRIVATE KEY-----\n${keyText}\n-----END PRIVATE KEY-----\n`);
    expect(() => tlsConfig({ ...server, ssl_key_file: keyFile }, 'server')).toThrow(/not a readable \(unencrypted\) PEM private key/);
    try {
      tlsConfig({ ...server, ssl_key_file: keyFile }, 'server');
    } catch (err) {
      expect((err as Error).message).not.toContain(keyText);
    }
  });

  it.each([
    [{ LIBPROCESS_SSL_SUPPORT_DOWNGRADE: 'true' }, /LIBPROCESS_SSL_SUPPORT_DOWNGRADE=true is not supported: mesos-ts never accepts plain text on a TLS port/],
    [{ LIBPROCESS_SSL_CA_DIR: '/etc/ssl/certs' }, /LIBPROCESS_SSL_CA_DIR=.* is not supported/],
    [{ LIBPROCESS_SSL_ENABLED: 'yes' }, /LIBPROCESS_SSL_ENABLED: 'yes' is not true or false/],
  ])('refuses the environment %j', (env, message) => {
    expect(() => withTlsEnvironment({}, env)).toThrow(message);
  });

  it('shows the key file as its path in /flags, and inline PEM never', () => {
    expect(shownFlagValue('ssl_key_file', certs.serverKey)).toBe(certs.serverKey);
    expect(shownFlagValue('ssl_key_file', '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----')).toBe('[REDACTED]');
  });
});

describe('client commands', () => {
  it('execute takes --ssl_* flags, else LIBPROCESS_SSL_* from its environment', () => {
    const base = ['--master', '127.0.0.1:5060', '--name', 'x'];
    const parsed = parseExecuteArgs([...base, '--ssl_enabled', `--ssl_ca_file=${certs.ca}`], {});
    expect(!parsed.help && parsed.options.tls).toMatchObject({ caFile: certs.ca, cert: null, verifyServerCert: true });
    const fromEnv = parseExecuteArgs(base, { LIBPROCESS_SSL_ENABLED: 'true', MESOS_TS_SSL_VERIFY_SERVER_CERT: 'false' });
    expect(!fromEnv.help && fromEnv.options.tls).toMatchObject({ verifyServerCert: false });
    const plain = parseExecuteArgs(base, {});
    expect(!plain.help && plain.options.tls).toBeUndefined();
  });
});

describe('tlsHint', () => {
  const tls = clientTls({ ssl_enabled: true }, {});
  it.each([
    [null, Object.assign(new Error('fetch failed'), { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) }), /the server may speak TLS/],
    [tls, Object.assign(new Error('fetch failed'), { cause: new Error('SSL routines:ssl3_get_record:wrong version number') }), /does not speak TLS/],
    [tls, Object.assign(new Error('fetch failed'), { cause: Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }) }), /not verified/],
  ])('explains %#', (config, err, hint) => {
    expect(tlsHint(err, config)).toMatch(hint);
  });
});
