// Flags as Mesos reads them (stout's flags): the command line, then the
// environment as PREFIX<FLAG> (MESOS_ for master and agent, MESOS_TS_ for our
// own commands); the command line wins. `file://PATH` values are read from
// PATH. Booleans are --flag, --no-flag, --flag=false, and true/false/1/0 in
// the environment. Unknown MESOS_* variables are ignored; a malformed value
// of a known one is an error naming the variable; a Mesos flag mesos-ts lacks
// set in the environment is a warning. --help names each flag's variable.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { envName, parseFlags, usage, type FlagSpecs, type ParseOptions } from '../../common/flags.js';
import { InvalidArgument } from '../../common/errors.js';
import { MASTER_FLAGS, MASTER_PARSE } from '../../master/flags.js';
import { AGENT_FLAGS, AGENT_PARSE } from '../../agent/flags.js';
import { parseExecuteArgs } from '../../framework/cli/execute.js';

const SPECS = {
  port: { type: 'number', default: 5050, help: 'port' },
  zk: { type: 'string', help: 'zk url' },
  quiet: { type: 'boolean', default: false, help: 'quiet' },
  timeout: { type: 'duration', default: 10, help: 'timeout' },
  master: { type: 'string', help: 'master' },
} as const satisfies FlagSpecs;

const dir = mkdtempSync(join(tmpdir(), 'mesos-ts-flags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

type Env = Record<string, string>;
const parse = (argv: string[], env: Env = {}, options: ParseOptions = { envPrefix: 'MESOS_' }) => parseFlags(SPECS, argv, { ...options, env });
const failure = (run: () => unknown): string => {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgument);
    return (err as Error).message;
  }
  throw new Error('expected an InvalidArgument');
};

describe('command line over environment', () => {
  it.each<[string, string[], Env, Partial<Record<keyof typeof SPECS, unknown>>]>([
    ['defaults with neither', [], {}, { port: 5050, quiet: false, timeout: 10 }],
    ['environment alone', [], { MESOS_PORT: '6000', MESOS_ZK: 'zk://h:2181/m', MESOS_TIMEOUT: '2mins' }, { port: 6000, zk: 'zk://h:2181/m', timeout: 120 }],
    ['command line alone', ['--port=7000'], {}, { port: 7000 }],
    ['command line wins', ['--port=7000', '--zk', 'zk://cli:2181/m'], { MESOS_PORT: '6000', MESOS_ZK: 'zk://env:2181/m' }, { port: 7000, zk: 'zk://cli:2181/m' }],
    ['the rest of the name in any case, as Mesos', [], { MESOS_port: '6001' }, { port: 6001 }],
    ['a malformed variable the command line overrides is not read', ['--port=1'], { MESOS_PORT: 'x' }, { port: 1 }],
    ['unknown MESOS_* variables are ignored', [], { MESOS_NO_SUCH_FLAG: 'x', MESOS_TS_PORT: '9', MESOSPORT: '9' }, { port: 5050 }],
    ['another prefix is not read', [], { MESOS_PORT: '6000' }, { port: 5050 }],
    ['names of Object.prototype are no flags', [], { MESOS_CONSTRUCTOR: 'x', MESOS___PROTO__: 'x', MESOS_TOSTRING: 'x' }, { port: 5050 }],
  ])('%s', (what, argv, env, expected) => {
    const options: ParseOptions = what === 'another prefix is not read' ? { envPrefix: 'MESOS_TS_' } : { envPrefix: 'MESOS_' };
    expect(parse(argv, env, options)).toMatchObject(expected);
  });

  it('reads no environment unless given one: library callers (startMaster, startAgent, tests) stay apart from the process', () => {
    process.env.MESOS_TS_FLAGS_TEST_PORT = '6000';
    try {
      expect(parseFlags({ flags_test_port: { type: 'number', default: 1, help: '' } }, []).flags_test_port).toBe(1);
    } finally {
      delete process.env.MESOS_TS_FLAGS_TEST_PORT;
    }
  });

  it('a required flag may come from the environment; the message names the variable when it is missing', () => {
    const specs = { master: { type: 'string', required: true, help: 'the master' } } as const;
    expect(parseFlags(specs, [], { env: { MESOS_TS_MASTER: 'm:1' } }).master).toBe('m:1');
    expect(failure(() => parseFlags(specs, [], { env: {} }))).toBe('flag --master is required (the master); or set MESOS_TS_MASTER');
  });
});

describe('booleans as Mesos spells them', () => {
  it.each<[string[], Env, boolean]>([
    [['--quiet'], {}, true],
    [['--quiet='], {}, true],
    [['--quiet=true'], {}, true],
    [['--quiet=1'], {}, true],
    [['--quiet=false'], {}, false],
    [['--quiet=0'], {}, false],
    [['--no-quiet'], { MESOS_QUIET: 'true' }, false],
    [['--quiet'], { MESOS_QUIET: 'false' }, true],
    [[], { MESOS_QUIET: 'true' }, true],
    [[], { MESOS_QUIET: '1' }, true],
    [[], { MESOS_QUIET: 'false' }, false],
    [[], { MESOS_QUIET: '0' }, false],
    [[], { MESOS_QUIET: '' }, true],
  ])('%j with %j: quiet is %s', (argv, env, quiet) => {
    expect(parse(argv, env).quiet).toBe(quiet);
  });

  it.each<[string[], Env, string]>([
    [['--quiet=yes'], {}, "flag --quiet: 'yes' is not true or false (nor 1 or 0)"],
    [[], { MESOS_QUIET: 'yes' }, "MESOS_QUIET: 'yes' is not true or false (nor 1 or 0)"],
    [['--no-quiet=true'], {}, "--no-quiet takes no value, got 'true'"],
    [['--no-port'], {}, '--no-port: --port is not a boolean flag'],
    [['--constructor'], {}, 'unknown flag --constructor (see --help)'],
  ])('%j with %j is refused: %s', (argv, env, message) => {
    expect(failure(() => parse(argv, env))).toBe(message);
  });
});

describe('malformed values name where they came from', () => {
  it.each<[string[], Env, string]>([
    [[], { MESOS_PORT: 'x' }, "MESOS_PORT: 'x' is not a number"],
    [[], { MESOS_PORT: '' }, "MESOS_PORT: '' is not a number"],
    [[], { MESOS_TIMEOUT: 'soon' }, "MESOS_TIMEOUT: 'soon' is not a duration (e.g. 5s, 500ms, 2mins)"],
    [['--port=x'], {}, "flag --port: 'x' is not a number"],
    [['--timeout=soon'], {}, "flag --timeout: 'soon' is not a duration"],
  ])('%j with %j: %s', (argv, env, message) => {
    expect(failure(() => parse(argv, env))).toContain(message);
  });
});

describe('file:// values', () => {
  it('reads an absolute path (file:///path), dropping the one trailing newline', () => {
    const zk = file('zk', 'zk://10.0.0.1:2181,10.0.0.2:2181/mesos\n');
    expect(parse([`--zk=file://${zk}`]).zk).toBe('zk://10.0.0.1:2181,10.0.0.2:2181/mesos');
    expect(parse([], { MESOS_ZK: `file://${zk}` }).zk).toBe('zk://10.0.0.1:2181,10.0.0.2:2181/mesos');
  });

  it('reads a path relative to the working directory (file://path), as Mesos', () => {
    const path = relative(process.cwd(), file('port', '6060\n'));
    expect(parse([], { MESOS_PORT: `file://${path}` }).port).toBe(6060);
  });

  it('converts what it read by the flag type; a malformed value names the variable and the file', () => {
    expect(parse([`--quiet=file://${file('quiet', 'true\n')}`]).quiet).toBe(true);
    expect(parse([`--timeout=file://${file('timeout', '5mins')}`]).timeout).toBe(300);
    expect(failure(() => parse([], { MESOS_PORT: `file://${file('bad-port', 'many\n')}` }))).toMatch(/^MESOS_PORT \(read from '.*bad-port'\): 'many' is not a number$/);
  });

  it('keeps JSON as it is (a quota, a domain): only the last newline goes', () => {
    const json = '{\n  "fault_domain": {"region": {"name": "r1"}, "zone": {"name": "z1"}}\n}';
    expect(parse([`--master=file://${file('domain.json', json + '\n')}`]).master).toBe(json);
  });

  it.each<[string[], Env, RegExp]>([
    [['--zk=file:///no/such/file'], {}, /^flag --zk: cannot read file '\/no\/such\/file' \(ENOENT\)$/],
    [[], { MESOS_ZK: 'file:///no/such/file' }, /^MESOS_ZK: cannot read file '\/no\/such\/file' \(ENOENT\)$/],
    [[], { MESOS_ZK: `file://${dir}` }, /^MESOS_ZK: cannot read file '.*' \(EISDIR\)$/],
  ])('%j with %j: an unreadable file is an error naming the flag and the file', (argv, env, message) => {
    expect(failure(() => parse(argv, env))).toMatch(message);
  });
});

describe('Mesos flags mesos-ts lacks, set in the environment', () => {
  it('are ignored with a warning naming the variable (images made for Mesos set many); on the command line they stay refused', () => {
    const warnings: string[] = [];
    const env = { MESOS_QUORUM: '2', MESOS_REGISTRY: 'replicated_log', MESOS_ZK: 'zk://h:2181/m', MESOS_SOMETHING_ELSE: 'x', MESOS_HELP: '1' };
    const flags = parseFlags(MASTER_FLAGS, [], { ...MASTER_PARSE, env, warn: (w) => warnings.push(w) });
    expect(flags.zk).toBe('zk://h:2181/m');
    expect(flags.help).toBe(false);
    expect(warnings.sort()).toEqual([
      'MESOS_QUORUM ignored: --quorum is an Apache Mesos master flag that mesos-ts does not implement (see --help for the flags it takes)',
      'MESOS_REGISTRY ignored: --registry is an Apache Mesos master flag that mesos-ts does not implement (see --help for the flags it takes)',
    ]);
    expect(failure(() => parseFlags(MASTER_FLAGS, ['--quorum=2'], MASTER_PARSE))).toContain('--quorum is an Apache Mesos master flag');
  });

  it('an agent reads MESOS_MASTER, MESOS_WORK_DIR, MESOS_RESOURCES as a Mesos agent does', () => {
    const warnings: string[] = [];
    const env = {
      MESOS_MASTER: 'zk://h:2181/mesos', MESOS_WORK_DIR: '/var/lib/mesos', MESOS_RESOURCES: 'cpus:2;mem:1024',
      MESOS_IMAGE_PROVIDERS: 'docker', MESOS_QUORUM: '2',
    };
    const flags = parseFlags(AGENT_FLAGS, [], { ...AGENT_PARSE, env, warn: (w) => warnings.push(w) });
    expect(flags).toMatchObject({ master: 'zk://h:2181/mesos', work_dir: '/var/lib/mesos', resources: 'cpus:2;mem:1024' });
    expect(parseFlags(AGENT_FLAGS, [], { ...AGENT_PARSE, env: { ...env, MESOS_CONTAINERIZERS: 'docker,mesos' }, warn: () => {} }).containerizers).toBe('docker,mesos');
    // --quorum is a master flag: nothing to an agent, as in Mesos.
    expect(warnings).toEqual([expect.stringMatching(/^MESOS_IMAGE_PROVIDERS ignored: --image_providers is an Apache Mesos agent flag/)]);
  });
});

describe('--help names each flag\'s environment variable', () => {
  it.each([
    ['master', MASTER_FLAGS, MASTER_PARSE, ['MESOS_ZK', 'MESOS_WORK_DIR', 'MESOS_PORT', 'MESOS_GRPC_PORT']],
    ['agent', AGENT_FLAGS, AGENT_PARSE, ['MESOS_MASTER', 'MESOS_WORK_DIR', 'MESOS_RESOURCES', 'MESOS_DOCKER_SOCKET']],
  ] as const)('%s', (command, specs, options, names) => {
    const text = usage(command, 'summary', specs, options);
    for (const name of Object.keys(specs)) {
      const line = text.split('\n').find((l) => new RegExp(`^  --(\\[no-\\])?${name} `).test(l));
      expect(line, name).toContain(` ${envName(name, options)} `);
    }
    for (const name of names) expect(text).toContain(name);
    expect(text).toContain('--[no-]quiet');
    expect(text).toContain('file://');
  });

  it('our own commands name MESOS_TS_ variables', () => {
    expect(usage('demo', 'summary', SPECS)).toMatch(/--master +MESOS_TS_MASTER +master/);
    expect(envName('work_dir', MASTER_PARSE)).toBe('MESOS_WORK_DIR');
    expect(envName('master', AGENT_PARSE)).toBe('MESOS_MASTER');
    expect(envName('master')).toBe('MESOS_TS_MASTER');
  });
});

describe('mesos-ts execute', () => {
  it('reads MESOS_TS_* when given an environment; the command line wins', () => {
    const parsed = parseExecuteArgs(['--name=cli'], { MESOS_TS_MASTER: 'm:5060', MESOS_TS_NAME: 'env', MESOS_TS_INSTANCES: '3', MESOS_TS_SHELL: 'false', MESOS_TS_COMMAND: 'sleep 1' });
    expect(parsed.help ? null : parsed.options).toMatchObject({ master: 'm:5060', name: 'cli', instances: 3, argv: ['sleep', '1'] });
  });
});
