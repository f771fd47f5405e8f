import { describe, expect, it } from 'vitest';
import { InvalidArgument } from '../../common/errors.js';
import { executeTasks, parseEnv, parseExecuteArgs, type ExecuteOptions } from '../../framework/cli/execute.js';

const required = ['--master', '127.0.0.1:5050', '--name', 'hello', '--docker_image', 'busybox'];
const options = (...extra: string[]): ExecuteOptions => {
  const parsed = parseExecuteArgs([...required, ...extra]);
  if (parsed.help) throw new Error('unexpected --help');
  return parsed.options;
};

describe('mesos-ts execute flags', () => {
  it('has defaults for everything but master, name and image', () => {
    const o = options('--command', 'echo hi');
    expect(o).toMatchObject({ master: '127.0.0.1:5050', name: 'hello', image: 'busybox', command: 'echo hi', instances: 1, role: '*', timeoutSeconds: 300, failoverTimeoutSeconds: 60 });
    expect(o.demand.resources.toString()).toBe('cpus:0.1;mem:32');
    expect(o.killAfterSeconds).toBeUndefined();
    expect(o.argv).toBeUndefined();
  });

  it('reads durations with units, instances, resources, ports, role and env', () => {
    const o = options('--instances=3', '--resources', 'cpus:0.2;mem:64', '--ports', '2', '--kill_after', '10s', '--timeout', '2mins', '--role', 'web', '--env', '{"A":"1","N":2}');
    expect(o).toMatchObject({ instances: 3, killAfterSeconds: 10, timeoutSeconds: 120, role: 'web', env: { A: '1', N: '2' } });
    expect(o.demand).toMatchObject({ ports: 2 });
    expect(o.demand.resources.toString()).toBe('cpus:0.2;mem:64');
  });

  it("--containerizer picks docker (the default) or mesos, as mesos-execute's flag does", () => {
    expect(options('--command', 'true').containerizer).toBe('docker');
    const o = options('--command', 'true', '--containerizer=mesos');
    expect(o.containerizer).toBe('mesos');
    expect(executeTasks(o)[0]!.task).toMatchObject({ containerizer: 'mesos' });
    expect(() => options('--command', 'true', '--containerizer=rkt')).toThrow("--containerizer must be 'docker' or 'mesos', got 'rkt'");
    expect(() => options('--containerizer=mesos')).toThrow('--containerizer=mesos needs a --command');
  });

  it('--no-shell splits the command into argv', () => {
    expect(options('--no-shell', '--command', 'sleep  5')).toMatchObject({ argv: ['sleep', '5'] });
    expect(options('--shell=false', '--command', 'ls -l')).toMatchObject({ argv: ['ls', '-l'] });
  });

  it('--help wins over missing required flags', () => {
    expect(parseExecuteArgs(['--help'])).toEqual({ help: true });
  });

  it.each([
    [[], /flag --master is required/],
    [[...required, '--instances', '0'], /--instances must be a whole number >= 1/],
    [[...required, '--instances', '1.5'], /--instances must be a whole number/],
    [[...required, '--resources', 'cpus:lots'], /--resources\/--ports: bad resource/],
    [[...required, '--timeout', 'soon'], /'soon' is not a duration/],
    [[...required, '--kill_after', '0'], /--kill_after must be positive/],
    [[...required, '--env', '[1]'], /--env must be a JSON object/],
    [[...required, '--env', '{nope'], /--env is not JSON/],
    [[...required, '--command', ' '], /--command is empty/],
    [['--master', 'm:1', '--name', 'a b', '--docker_image', 'x'], /--name 'a b' must hold no whitespace/],
    [[...required, 'stray'], /unexpected argument 'stray'/],
    [[...required, '--bogus'], /unknown flag --bogus/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseExecuteArgs(argv)).toThrow(InvalidArgument);
    expect(() => parseExecuteArgs(argv)).toThrow(message);
  });

  it('names tasks <name>-1 ... <name>-K and passes command and env through', () => {
    const specs = executeTasks(options('--instances', '3', '--command', 'echo hi', '--env', '{"A":"1"}'));
    expect(specs.map((s) => s.id)).toEqual(['hello-1', 'hello-2', 'hello-3']);
    expect(specs[0]!.task).toEqual({ image: 'busybox', command: 'echo hi', env: { A: '1' } });
  });

  it('parseEnv stringifies scalar values and refuses nested ones', () => {
    expect(parseEnv('{"A":true}')).toEqual({ A: 'true' });
    expect(() => parseEnv('{"A":{"b":1}}')).toThrow(/value of 'A' must be a string/);
  });
});
