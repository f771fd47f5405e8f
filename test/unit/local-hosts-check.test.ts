// checkHosts() and checkLocalFlags(): `mesos-ts local --hosts N` refuses,
// before anything starts, a count that is not a whole number in 0..200 and a
// user who is not root, with a message naming the flag, the value and what
// to do.
import { describe, expect, it } from 'vitest';
import { InvalidArgument } from '../../common/errors.js';
import { parseFlags } from '../../common/flags.js';
import { checkHosts, checkLocalFlags, LOCAL_FLAGS } from '../../cli/local.js';

const check = (argv: string[], uid = 0) => () => checkLocalFlags(parseFlags(LOCAL_FLAGS, argv, { env: {} }), uid);

describe('checkHosts', () => {
  it('takes 0 (loopback, no hosts) from anyone and 1..200 from root', () => {
    expect(() => checkHosts(0, 1000)).not.toThrow();
    expect(() => checkHosts(1, 0)).not.toThrow();
    expect(() => checkHosts(200, 0)).not.toThrow();
  });

  it.each([
    [-1, '--hosts must be a whole number >= 0, got -1'],
    [1.5, '--hosts must be a whole number >= 0, got 1.5'],
    [Number.NaN, '--hosts must be a whole number >= 0, got NaN'],
    [201, '--hosts must be at most 200, got 201'],
  ])('refuses --hosts %s', (hosts, message) => {
    expect(() => checkHosts(hosts, 0)).toThrow(new InvalidArgument(message));
  });

  it('tells a user who is not root that --hosts needs root, and how to run it', () => {
    expect(() => checkHosts(3, 1000)).toThrow(InvalidArgument);
    expect(() => checkHosts(3, 1000)).toThrow(/--hosts needs root: .*uid here is 1000.*sudo npm run local -- --hosts 3/);
    expect(() => checkHosts(3, undefined)).toThrow(/uid here is unknown/);
  });
});

describe('checkLocalFlags with --hosts', () => {
  it('takes --hosts with --masters 3, either containerizer, --ssl and --kill_leader_after', () => {
    expect(check(['--hosts', '3', '--masters', '3'])).not.toThrow();
    expect(check(['--hosts', '2', '--containerizer', 'mesos'])).not.toThrow();
    expect(check(['--hosts', '2', '--ssl'])).not.toThrow();
    expect(check(['--hosts', '2', '--masters', '2', '--kill_leader_after', '1'])).not.toThrow();
  });

  it.each([
    [['--hosts', '-1'], '--hosts must be a whole number >= 0, got -1'],
  ])('refuses %j', (argv, message) => {
    expect(check(argv)).toThrow(new InvalidArgument(message));
  });

  it('refuses --hosts to a user who is not root, and leaves loopback runs alone', () => {
    expect(check(['--hosts', '2'], 1000)).toThrow(/--hosts needs root/);
    expect(check(['--agents', '2'], 1000)).not.toThrow();
  });
});
