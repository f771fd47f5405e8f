// The log as a reader or a shipper gets it: both formats parsed back, levels
// honoured, ids as fields, no planted secret anywhere, --log_dir files
// rotated whole-line.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, type LoggerOptions } from '../../common/log/logger.js';
import { formatText } from '../../common/log/format.js';
import { loggerOptions } from '../../common/log/flags.js';
import { redact, redactAll, redactText, REDACTED } from '../../common/log/redact.js';
import fc from 'fast-check';
import { MasterHarness } from '../harness/master-harness.js';
import type { Logger as SdkLogger } from '../../framework/sdk/index.js';
import { parseFlags } from '../../common/flags.js';
import { MASTER_FLAGS, MASTER_PARSE } from '../../master/flags.js';
import { AGENT_FLAGS, AGENT_PARSE } from '../../agent/flags.js';

/** A glog-style text line parsed back: I1206 03:20:00.123456  4242 master] message k=v k="v w" */
const TEXT_LINE = /^([IWEFV])(\d{4}) (\d\d:\d\d:\d\d\.\d{6}) +(\d+) ([\w-]+)\] (.*)$/;

function parseText(line: string): { level: string; component: string; rest: string } {
  const m = TEXT_LINE.exec(line);
  if (!m) throw new Error(`not a glog-style line: ${line}`);
  return { level: m[1]!, component: m[5]!, rest: m[6]! };
}

function capture(options: Omit<LoggerOptions, 'sink'>) {
  const lines: string[] = [];
  return { lines, logger: createLogger({ ...options, sink: (line) => lines.push(line) }) };
}

const SECRET = 'hunter2-planted';

function plantSecrets(logger: ReturnType<typeof createLogger>): void {
  logger.info({ password: SECRET, nested: { credential: { principal: 'p', secret: SECRET } }, headers: { authorization: `Bearer ${SECRET}` } }, 'fields named as secrets');
  logger.warn(`connecting to zk://ops:${SECRET}@zk1:2181/mesos`);
  logger.warn(`started with --secret=${SECRET} --jwt_secret_key ${SECRET}`);
  logger.error({ err: new Error(`auth failed: Authorization: Basic ${SECRET}`), url: `http://u:${SECRET}@h/` }, `token=${SECRET}`);
}

describe('log formats', () => {
  it('json: one object per line with time, level, component, message and the fields', () => {
    const { lines, logger } = capture({ component: 'master', format: 'json' });
    logger.info({ framework_id: 'm-0000', agent_id: 'm-S0', task_id: 't1' }, 'task t1 launched');
    logger.child({ component: 'registry' }).warn('skipping agents/bad');
    const [a, b] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(a).toMatchObject({ level: 'INFO', component: 'master', msg: 'task t1 launched', framework_id: 'm-0000', agent_id: 'm-S0', task_id: 't1', pid: process.pid });
    expect(Date.parse(String(a!.time))).toBeGreaterThan(0);
    expect(b).toMatchObject({ level: 'WARNING', component: 'registry' });
  });

  it('text: glog-style lines, the fields as key=value after the message', () => {
    const { lines, logger } = capture({ component: 'agent', format: 'text' });
    logger.info({ framework_id: 'm-0000', task_id: 'a b' }, 'launching task');
    logger.error('lost the master');
    expect(parseText(lines[0]!)).toEqual({ level: 'I', component: 'agent', rest: 'launching task framework_id=m-0000 task_id="a b"' });
    expect(parseText(lines[1]!)).toMatchObject({ level: 'E', rest: 'lost the master' });
    logger.error({ err: new Error('boom') }, 'internal error');
    const [head, ...stack] = lines[2]!.split('\n');
    expect(parseText(head!)).toMatchObject({ level: 'E', rest: 'internal error err=boom' });
    expect(stack[0]).toMatch(/^ {4}at /);
  });

  it('formats a known record exactly', () => {
    const line = formatText({ level: 'WARNING', time: '2026-12-06T03:20:00.123456789Z', pid: 42, component: 'master', msg: 'framework x removed', framework_id: 'x' });
    expect(line).toBe('W1206 03:20:00.123456    42 master] framework x removed framework_id=x');
  });

  it('--logging_level=WARNING drops INFO; ERROR keeps only errors', () => {
    for (const [level, expected] of [['warning', ['W', 'E']], ['ERROR', ['E']], ['INFO', ['I', 'W', 'E']]] as const) {
      const lines: string[] = [];
      const logger = createLogger(loggerOptions({ logging_level: level, log_format: 'text', quiet: false }, 'master', (l) => lines.push(l)));
      logger.info('i');
      logger.warn('w');
      logger.error('e');
      expect(lines.map((l) => parseText(l).level), level).toEqual(expected);
    }
  });

  it('refuses a level or a format it does not know, naming the flag and the value', () => {
    expect(() => loggerOptions({ logging_level: 'VERBOSE', quiet: false }, 'master')).toThrow("--logging_level must be INFO, WARNING or ERROR, got 'VERBOSE'");
    expect(() => loggerOptions({ logging_level: 'INFO', log_format: 'xml', quiet: false }, 'master')).toThrow("--log_format must be 'text' or 'json', got 'xml'");
  });

  it('--quiet writes nothing to stderr (nor the sink)', () => {
    const { lines, logger } = capture({ component: 'master', quiet: true });
    logger.error('not shown');
    expect(lines).toEqual([]);
  });
});

describe('redaction', () => {
  for (const format of ['json', 'text'] as const) {
    it(`no planted secret reaches a ${format} line`, () => {
      const { lines, logger } = capture({ component: 'master', format });
      plantSecrets(logger);
      expect(lines).toHaveLength(4);
      for (const line of lines) expect(line).not.toContain(SECRET);
      expect(lines.join('\n')).toContain(REDACTED);
      // What is not secret stays readable.
      expect(lines[1]).toContain('zk1:2181/mesos');
      if (format === 'json') expect(JSON.parse(lines[0]!).nested.credential.principal).toBeUndefined(); // the whole credential goes
    });
  }

  it('skips the replaces only for text none of them could change', () => {
    // Texts made of the pieces the patterns look for, in any case and order, with ordinary ones between.
    const piece = fc.constantFrom('secret', 'SECRET', 'password', 'passwd', 'credential', 'token', 'api_key', 'API-KEY', 'apikey', 'Bearer ', 'Basic ',
      'bearer ', '--', '-', '=', ': ', ':', '"', "'", ' ', 'zk://', 'http://', 'user', '@', 'host', 'x9', '/', ',', 'jwt_', '_key');
    fc.assert(fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
      const text = pieces.join('');
      expect(redactText(text)).toBe(redactAll(text));
    }), { numRuns: 3000 });
  });

  it('leaves ordinary fields and text alone', () => {
    const record = { msg: 'agent a (host-1) registered with cpus:4;mem:1024', agent_id: 'm-S0', roles: ['*'] };
    expect(redact(record)).toEqual(record);
  });
});

describe('--log_dir', () => {
  it('writes the log to DIR/mesos-<component>.log (JSON by default), rotated without splitting a line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mesos-ts-log-'));
    try {
      const logger = createLogger({ component: 'master', quiet: true, logDir: dir, rotation: { maxBytes: 400, keep: 2 } });
      for (let i = 0; i < 20; i++) logger.info({ n: i }, `line ${i} ${'x'.repeat(40)}`);
      expect(readdirSync(dir).sort()).toEqual(['mesos-master.log', 'mesos-master.log.1', 'mesos-master.log.2']);
      const all = ['mesos-master.log.2', 'mesos-master.log.1', 'mesos-master.log'].flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => l !== ''));
      for (const f of readdirSync(dir)) expect(readFileSync(join(dir, f)).length).toBeLessThanOrEqual(400);
      const numbers = all.map((l) => (JSON.parse(l) as { n: number }).n); // every line whole
      expect(numbers.at(-1)).toBe(19);
      expect(numbers).toEqual([...Array(numbers.length).keys()].map((k) => 20 - numbers.length + k)); // in order, the oldest rotated away
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the master logs with ids as fields', () => {
  it('a task launch names framework_id, agent_id and task_id', async () => {
    const lines: string[] = [];
    const h = await MasterHarness.start({ logger: createLogger({ component: 'master', format: 'json', sink: (l) => lines.push(l) }) });
    const agent = await h.addAgent('a1', 'cpus:4;mem:1024');
    const fw = await h.subscribe('fw');
    fw.launch(fw.offers()[0]!, [{ id: 't1', resources: 'cpus:1;mem:128' }]);
    await h.settle();
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.find((r) => r.task_id === 't1')).toMatchObject({ level: 'INFO', component: 'master', framework_id: fw.id, agent_id: agent.id });
    expect(records.find((r) => r.agent_id === agent.id && String(r.msg).includes('registered'))).toBeDefined();
    expect(records.find((r) => r.framework_id === fw.id && String(r.msg).includes('subscribed'))).toBeDefined();
  });
});

describe('the SDK', () => {
  it('takes a pino logger as its Logger', () => {
    const lines: string[] = [];
    const logger: SdkLogger = createLogger({ component: 'my-framework', format: 'json', sink: (l) => lines.push(l) });
    logger.warn('lost the master; subscribing again');
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'WARNING', component: 'my-framework', msg: 'lost the master; subscribing again' });
  });
});

describe('the flags, as Mesos names them', () => {
  it('master and agent take --logging_level, --log_dir and --quiet (Mesos\'s) and --log_format', () => {
    const argv = ['--logging_level=warning', '--log_dir=/var/log/mesos', '--quiet', '--log_format=json'];
    for (const flags of [parseFlags(MASTER_FLAGS, argv, MASTER_PARSE), parseFlags(AGENT_FLAGS, ['--master=127.0.0.1:5060', ...argv], AGENT_PARSE)]) {
      expect(loggerOptions(flags, 'x')).toEqual({ component: 'x', level: 'WARNING', format: 'json', logDir: '/var/log/mesos', quiet: true });
    }
  });
});
