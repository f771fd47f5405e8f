// Credentials as Mesos takes them: the master's --credentials (JSON or
// "principal secret" lines), one --credential, Basic values, the constant-time
// check, and flag values shown without secrets.
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Authenticator, basicAuthorization, clientCredential, parseCredential, parseCredentials, readBasic, shownFlagValue,
} from '../../common/credentials.js';
import { InvalidArgument } from '../../common/errors.js';
import { parseFlags } from '../../common/flags.js';
import { MASTER_FLAGS, MASTER_PARSE } from '../../master/flags.js';
import { AGENT_FLAGS, AGENT_PARSE } from '../../agent/flags.js';
import { realmOf } from '../../master/authentication.js';

const dir = mkdtempSync(join(tmpdir(), 'mesos-ts-credentials-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--credentials', () => {
  const json = '{"credentials":[{"principal":"alice","secret":"s1"},{"principal":"agent","secret":"s2"}]}';
  it.each([
    ['Mesos JSON', json],
    ['text lines', 'alice s1\nagent s2\n'],
    ['a path to a JSON file', (() => { const p = join(dir, 'creds.json'); writeFileSync(p, json); return p; })()],
  ])('takes %s', (_what, value) => {
    expect(parseCredentials(value)).toEqual([{ principal: 'alice', secret: 's1' }, { principal: 'agent', secret: 's2' }]);
  });

  it.each([
    ['{"credentials":[{"principal":"alice"}]}', /credentials\[0\]: "secret" must be a string/],
    ['{"credentials":{}}', /expected \{"credentials"/],
    ['{"credentials":[{"principal":"a:b","secret":"x"}]}', /may not contain ':'/],
    ['{not json s3cr3t', /not valid JSON$/],
    ['alice s1 extra', /line 1: expected "principal secret"/],
    ['/no/such/file', /cannot read file '\/no\/such\/file' \(ENOENT\)/],
  ])('refuses %s, naming what is wrong and never the secret', (value, message) => {
    expect(() => parseCredentials(value)).toThrow(message);
    try {
      parseCredentials(value);
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidArgument);
      expect((err as Error).message).not.toContain('s3cr3t');
    }
  });

  it('--credential takes one, as JSON or a line', () => {
    expect(parseCredential('{"principal":"agent","secret":"s2"}')).toEqual({ principal: 'agent', secret: 's2' });
    expect(parseCredential('agent s2')).toEqual({ principal: 'agent', secret: 's2' });
  });
});

describe('Basic values and the Authenticator', () => {
  const auth = new Authenticator([{ principal: 'alice', secret: 's1' }, { principal: 'agent', secret: 'se:cret' }]);
  it.each([
    [{ principal: 'alice', secret: 's1' }, 'alice'],
    [{ principal: 'agent', secret: 'se:cret' }, 'agent'],
    [{ principal: 'alice', secret: 's2' }, null],
    [{ principal: 'alice', secret: '' }, null],
    [{ principal: 'bob', secret: 's1' }, null],
  ])('%j proves %s', (credential, principal) => {
    expect(auth.authenticate(readBasic(basicAuthorization(credential)))).toBe(principal);
  });

  it.each([undefined, '', 'Bearer abc', 'Basic !!!', `Basic ${Buffer.from('nocolon').toString('base64')}`])('%j carries no credential', (value) => {
    expect(readBasic(value)).toBeNull();
    expect(auth.authenticate(readBasic(value))).toBeNull();
  });
});

describe('flags', () => {
  it('the master takes the authentication flags, also from MESOS_* variables', () => {
    const flags = parseFlags(MASTER_FLAGS, ['--authenticate_frameworks', '--credentials=/etc/mesos/credentials'], {
      ...MASTER_PARSE, env: { MESOS_AUTHENTICATE_AGENTS: 'true', MESOS_AUTHENTICATE_HTTP_READONLY: '1' },
    });
    expect([flags.authenticate_frameworks, flags.authenticate_agents, flags.authenticate_http_readonly, flags.authenticate_http_readwrite]).toEqual([true, true, true, false]);
    expect(flags.credentials).toBe('/etc/mesos/credentials');
  });

  it('the agent takes --credential', () => {
    const flags = parseFlags(AGENT_FLAGS, ['--master=127.0.0.1:5060', '--credential=/etc/mesos/agent-credential'], AGENT_PARSE);
    expect(flags.credential).toBe('/etc/mesos/agent-credential');
  });

  it.each([
    ['credentials', '/etc/mesos/credentials', '/etc/mesos/credentials'],
    ['credentials', '{"credentials":[{"principal":"a","secret":"s"}]}', '[REDACTED]'],
    ['credentials', 'a s\nb t', '[REDACTED]'],
    ['credential', 'a s', '[REDACTED]'],
    ['secret', '/looks/like/a/path', '[REDACTED]'],
    ['work_dir', '/var/lib/mesos', '/var/lib/mesos'],
  ])('/flags shows --%s=%j as %j', (name, value, shown) => {
    expect(shownFlagValue(name, value)).toBe(shown);
  });

  it('clients take --principal with --secret, or --credential', () => {
    expect(clientCredential({})).toBeUndefined();
    expect(clientCredential({ principal: 'alice', secret: 's1' })).toEqual({ principal: 'alice', secret: 's1' });
    expect(clientCredential({ credential: 'alice s1' })).toEqual({ principal: 'alice', secret: 's1' });
    expect(() => clientCredential({ principal: 'alice' })).toThrow(/go together/);
    expect(() => clientCredential({ credential: 'alice s1', secret: 'x' })).toThrow(/excludes/);
  });
});

describe('HTTP realms', () => {
  it.each([
    ['POST', '/api/v1/scheduler', 'frameworks'],
    ['POST', '/master/api/v1/scheduler', 'frameworks'],
    ['POST', '/api/v1', 'readwrite'],
    ['POST', '/master/teardown', 'readwrite'],
    ['PUT', '/master/weights', 'readwrite'],
    ['GET', '/master/state', 'readonly'],
    ['GET', '/master/flags', 'readonly'],
    ['GET', '/metrics/snapshot', 'readonly'],
    ['GET', '/master/health', null],
    ['GET', '/version', null],
    ['GET', '/ui/app.js', null],
  ])('%s %s is %s', (method, path, realm) => {
    expect(realmOf(method, path)).toBe(realm);
  });
});
