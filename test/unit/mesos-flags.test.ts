// Mesos flags on `mesos-ts master` and `mesos-ts agent`: each Mesos 1.11 flag
// is either implemented or refused by name as a Mesos flag mesos-ts does not
// implement (never silently ignored, never called unknown); other names are
// unknown flags. --advertise_ip/--advertise_port and --domain are checked at
// the edge.
import { describe, expect, it } from 'vitest';
import { flagArgs, parseFlags, usage } from '../../common/flags.js';
import { MESOS_AGENT_FLAGS, MESOS_MASTER_FLAGS, checkAdvertised } from '../../common/mesos-flags.js';
import { parseDomain } from '../../common/domain.js';
import { MASTER_FLAGS, MASTER_PARSE } from '../../master/flags.js';
import { AGENT_FLAGS, AGENT_PARSE } from '../../agent/flags.js';
import { InvalidArgument } from '../../common/errors.js';

const master = (...argv: string[]) => parseFlags(MASTER_FLAGS, argv, MASTER_PARSE);
const agent = (...argv: string[]) => parseFlags(AGENT_FLAGS, ['--master=127.0.0.1:5060', ...argv], AGENT_PARSE);
const refusal = (parse: () => unknown): string => {
  try {
    parse();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgument);
    return (err as Error).message;
  }
  return '';
};

describe('Mesos flags mesos-ts does not implement', () => {
  it.each([
    [['--quorum=2'], '--quorum is an Apache Mesos master flag that mesos-ts does not implement'],
    [['--authenticators=crammd5'], '--authenticators is an Apache Mesos master flag'],
    [['--authenticate'], 'mesos-ts takes its new name, --authenticate_frameworks'],
    [['--registry', 'replicated_log'], '--registry is an Apache Mesos master flag'],
    [['--external_log_file=/var/log/mesos.log'], '--external_log_file is an Apache Mesos master flag'],
    [['--slave_ping_timeout=15secs'], 'mesos-ts takes its new name, --agent_ping_timeout'],
  ])('master %j is refused by name: %s', (argv, message) => {
    expect(refusal(() => master(...argv))).toContain(message);
  });

  it.each([
    [['--isolation=cgroups/cpu'], '--isolation is an Apache Mesos agent flag that mesos-ts does not implement'],
    [['--image_providers=docker'], '--image_providers is an Apache Mesos agent flag'],
    [['--no-docker_kill_orphans'], '--docker_kill_orphans is an Apache Mesos agent flag'],
  ])('agent %j is refused by name: %s', (argv, message) => {
    expect(refusal(() => agent(...argv))).toContain(message);
  });

  it('a name Mesos does not have is an unknown flag; an agent-only Mesos flag is unknown to the master', () => {
    expect(refusal(() => master('--no_such_flag=1'))).toBe('unknown flag --no_such_flag (see --help)');
    expect(refusal(() => master('--isolation=posix'))).toBe('unknown flag --isolation (see --help)');
    expect(refusal(() => agent('--quorum=1'))).toBe('unknown flag --quorum (see --help)');
  });

  it.each([
    ['master', MESOS_MASTER_FLAGS, (name: string) => master(`--${name}=1`)],
    ['agent', MESOS_AGENT_FLAGS, (name: string) => agent(`--${name}=1`)],
  ] as const)('every Mesos %s flag is implemented or refused as not implemented, none called unknown', (_, names, parse) => {
    expect(names.size).toBeGreaterThan(50);
    for (const name of names) expect(refusal(() => parse(name)), name).not.toMatch(/unknown flag/);
  });

  it('--help is unchanged: it lists only the flags mesos-ts takes', () => {
    expect(master('--help').help).toBe(true);
    const text = usage('master', 'summary', MASTER_FLAGS);
    expect(text).toContain('--advertise_ip');
    expect(text).not.toContain('--quorum');
  });
});

describe('--advertise_ip, --advertise_port, --hostname', () => {
  it('are master and agent flags', () => {
    expect(master('--advertise_ip=10.0.0.5', '--advertise_port=5050', '--hostname=m1')).toMatchObject({ advertise_ip: '10.0.0.5', advertise_port: 5050, hostname: 'm1' });
    expect(agent('--advertise_ip=10.0.0.6', '--advertise_port=5051')).toMatchObject({ advertise_ip: '10.0.0.6', advertise_port: 5051 });
  });

  it('are checked: an IPv4 address and a port', () => {
    expect(() => checkAdvertised({ advertise_ip: '10.0.0.5', advertise_port: 80 })).not.toThrow();
    expect(() => checkAdvertised({ advertise_ip: 'master.example' })).toThrow("--advertise_ip: 'master.example' is not an IPv4 address");
    expect(() => checkAdvertised({ advertise_port: 70000 })).toThrow("--advertise_port: '70000' is not a port (1-65535)");
    expect(() => checkAdvertised({ advertise_port: 0 })).toThrow('--advertise_port');
  });
});

describe('--domain', () => {
  it('takes DomainInfo JSON as Mesos does', () => {
    expect(parseDomain('{"fault_domain":{"region":{"name":"r1"},"zone":{"name":"z1"}}}'))
      .toEqual({ fault_domain: { region: { name: 'r1' }, zone: { name: 'z1' } } });
    expect(parseDomain('{}')).toEqual({});
  });

  it('names what is wrong', () => {
    expect(() => parseDomain('{"fault_domain":{"region":{"name":"r1"}}}')).toThrow('--domain: fault_domain.zone.name must be a non-empty string');
    expect(() => parseDomain('{oops')).toThrow('--domain: not JSON');
    expect(() => parseDomain('/no/such/file.json')).toThrow("--domain: '/no/such/file.json' is neither DomainInfo JSON nor a readable file");
  });
});

describe('--hostname_lookup', () => {
  it('is taken by master and agent (Mesos deployments often pass --hostname_lookup=false); mesos-ts defaults to false', () => {
    expect(master('--hostname_lookup=false').hostname_lookup).toBe(false);
    expect(master().hostname_lookup).toBe(false);
    expect(agent('--hostname_lookup').hostname_lookup).toBe(true);
  });
});

describe('flagArgs', () => {
  it('gives parsed flags back as arguments that parse to the same values (a process on a host gets its TLS flags so)', () => {
    const given = { ssl_enabled: true, ssl_cert_file: '/c/server.pem', ssl_key_file: '/c/server.key', ssl_ca_file: '/c/ca.pem', ssl_require_client_cert: true, ssl_verify_server_cert: false, log_dir: undefined };
    const argv = flagArgs(given);
    expect(argv).toEqual(['--ssl_enabled=true', '--ssl_cert_file=/c/server.pem', '--ssl_key_file=/c/server.key', '--ssl_ca_file=/c/ca.pem', '--ssl_require_client_cert=true', '--ssl_verify_server_cert=false']);
    const back = agent(...argv);
    expect(back).toMatchObject({ ssl_enabled: true, ssl_cert_file: '/c/server.pem', ssl_require_client_cert: true, ssl_verify_server_cert: false });
  });
});
