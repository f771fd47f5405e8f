import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allowsAll, authorize, parseAcls, type AclAction } from '../../common/acls.js';
import { parseFlags } from '../../common/flags.js';
import { MASTER_FLAGS, MASTER_PARSE } from '../../master/flags.js';
import { AGENT_FLAGS, AGENT_PARSE } from '../../agent/flags.js';

const acls = parseAcls(JSON.stringify({
  register_frameworks: [
    { principals: { values: ['foo'] }, roles: { values: ['analytics'] } },
    { principals: { type: 'NONE' }, roles: { values: ['analytics'] } },
  ],
  run_tasks: [
    { principals: { values: ['foo'] }, users: { values: ['guest'] } },
    { principals: { values: ['foo'] }, users: { type: 'NONE' } },
    { principals: { type: 'ANY' }, users: { values: ['root'] } },
    { principals: { type: 'NONE' }, users: { values: ['root'] } },
  ],
  teardown_frameworks: [{ principals: { type: 'ANY' }, framework_principals: { type: 'ANY' } }],
  drain_agents: [{ principals: { values: ['ops'] }, agents: { type: 'ANY' } }, { principals: { type: 'NONE' }, agents: { type: 'ANY' } }],
}));

describe('authorize: first match wins, permissive fallback (Mesos local authorizer)', () => {
  const table: [AclAction, string | null, string | null, boolean, string][] = [
    ['register_frameworks', 'foo', 'analytics', true, 'foo may take analytics (rule 0)'],
    ['register_frameworks', 'bar', 'analytics', false, 'NONE principals match anyone else: denied (rule 1)'],
    ['register_frameworks', null, 'analytics', false, 'no principal: matched by the NONE rule, denied'],
    ['register_frameworks', 'bar', 'dev', true, 'no rule for dev: permissive'],
    ['register_frameworks', null, 'dev', true, 'no principal, no rule: permissive'],
    ['run_tasks', 'foo', 'guest', true, 'foo as guest'],
    ['run_tasks', 'foo', 'nobody', false, 'foo as anyone else: NONE users'],
    ['run_tasks', 'bar', 'root', true, 'rule 2 (ANY principals, root) allows bar'],
    ['run_tasks', null, 'root', true, 'no principal matches ANY and is allowed by it'],
    ['run_tasks', null, null, true, 'no user known: ANY object, permissive'],
    ['teardown_frameworks', null, 'x', true, 'ANY/ANY allows everyone'],
    ['drain_agents', 'ops', null, true, 'ops drains'],
    ['drain_agents', 'dev', null, false, 'others may not (NONE rule)'],
    ['drain_agents', null, null, false, 'nor a caller without principal'],
  ];
  it.each(table)('%s by %s on %s -> %s (%s)', (action, principal, object, allowed) => {
    expect(authorize(acls, action, principal, object).allowed).toBe(allowed);
  });

  it('names the rule that denied', () => {
    expect(authorize(acls, 'run_tasks', 'foo', 'nobody')).toEqual({ allowed: false, by: 'ACL run_tasks[1]' });
  });

  it('permissive false denies what no rule matches, and a SOME rule never matches an unauthenticated caller', () => {
    const strict = parseAcls('{"permissive": false, "update_weights": [{"principals": {"values": ["ops"]}, "roles": {"type": "ANY"}}]}');
    expect(authorize(strict, 'update_weights', 'ops', 'dev').allowed).toBe(true);
    expect(authorize(strict, 'update_weights', null, 'dev')).toMatchObject({ allowed: false, by: expect.stringContaining('permissive') });
    expect(authorize(strict, 'update_quotas', 'ops', 'dev').allowed).toBe(false);
    expect(allowsAll(strict, 'view_frameworks')).toBe(false);
    expect(allowsAll(acls, 'view_frameworks')).toBe(true);
  });
});

describe('parseAcls: bad input is refused naming the key', () => {
  const bad: [string, RegExp][] = [
    ['{not json', /not valid JSON/],
    ['[]', /expected a JSON object/],
    ['{"permissive": "yes"}', /"permissive" must be true or false/],
    ['{"launch_nested_containers_as_user": []}', /unknown or unsupported action "launch_nested_containers_as_user"/],
    ['{"run_tasks": {}}', /"run_tasks" must be an array/],
    ['{"run_tasks": [{"principals": {"type": "ANY"}}]}', /run_tasks\[0\]\.users is required/],
    ['{"run_tasks": [{"principals": {"type": "ANY"}, "roles": {"type": "ANY"}}]}', /run_tasks\[0\]: unknown key "roles"/],
    ['{"run_tasks": [{"principals": {"type": "SOMETIMES"}, "users": {"type": "ANY"}}]}', /run_tasks\[0\]\.principals\.type must be SOME, ANY or NONE/],
    ['{"run_tasks": [{"principals": {"values": [1]}, "users": {"type": "ANY"}}]}', /principals\.values must be an array of strings/],
    ['/no/such/acls.json', /cannot read file '\/no\/such\/acls.json'/],
  ];
  it.each(bad)('%s', (text, error) => {
    expect(() => parseAcls(text)).toThrow(error);
  });

  it('master and agent take --acls from MESOS_ACLS, and file:// through the flag parser', () => {
    const dir = mkdtempSync(join(tmpdir(), 'acls-'));
    const path = join(dir, 'acls.json');
    writeFileSync(path, '{"permissive": false}');
    const master = parseFlags(MASTER_FLAGS, [], { ...MASTER_PARSE, env: { MESOS_ACLS: '{"run_tasks": []}' } });
    expect(parseAcls(master.acls!).rules.get('run_tasks')).toEqual([]);
    const agent = parseFlags(AGENT_FLAGS, ['--master=m:1', `--acls=file://${path}`], AGENT_PARSE);
    expect(parseAcls(agent.acls!).permissive).toBe(false);
  });

  it('reads a path or file://PATH', () => {
    const dir = mkdtempSync(join(tmpdir(), 'acls-'));
    const path = join(dir, 'acls.json');
    writeFileSync(path, '{"permissive": false}');
    expect(parseAcls(path).permissive).toBe(false);
    expect(parseAcls(`file://${path}`).permissive).toBe(false);
  });
});
