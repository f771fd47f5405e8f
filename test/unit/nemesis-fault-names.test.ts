// A fault run asked for faults it cannot make is refused before it starts
// anything: names no injector has, partitions and machine faults on loopback,
// the loopback ZooKeeper kill on hosts, a clock jump without libfaketime. The
// names known up front are the injectors' own.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { faultNames, refusedFaults } from '../../test/nemesis/fault-names.js';
import { hostInjectors } from '../../test/nemesis/host-injectors.js';
import { loopbackInjectors } from '../../test/nemesis/injectors.js';
import { machineInjectors } from '../../test/nemesis/machine-injectors.js';
import { FAKETIME_LIB } from '../../test/nemesis/machines.js';
import { refusedOptions } from '../../test/nemesis/run.js';
import type { NemesisCluster } from '../../test/nemesis/cluster.js';

// Building injectors touches the cluster only for its hosts (none here): nothing is injected.
const stub = { hosts: () => [] } as unknown as NemesisCluster;

describe('the faults a run can inject', () => {
  it('are the names of the injectors it builds', () => {
    expect(faultNames({ hosts: false, clockJumps: false })).toEqual(loopbackInjectors(stub).map((i) => i.name));
    expect(faultNames({ hosts: true, clockJumps: FAKETIME_LIB !== null })).toEqual(hostInjectors(stub).map((i) => i.name));
    expect(machineInjectors(stub, true).map((i) => i.name)).toEqual(['restart-engine', 'restart-engine-live-restore', 'fill-disk', 'jump-clock']);
  });

  it('refuses unknown names, host faults on loopback, the loopback ZooKeeper on hosts, clock jumps without libfaketime', () => {
    const loopback = { hosts: false, clockJumps: true };
    const hosts = { hosts: true, clockJumps: true };
    expect(refusedFaults(['kill-master', 'pause-agent'], loopback)).toEqual([]);
    expect(refusedFaults(['fill-disk', 'jump-clock', 'kill-zk-member'], hosts)).toEqual([]);
    const typo = refusedFaults(['kill-mastr'], loopback);
    expect(typo[0]).toBe("unknown fault 'kill-mastr'");
    expect(typo.at(-1)).toMatch(/^this run's faults: kill-master, .*kill-zookeeper$/);
    expect(refusedFaults(['partition-pair', 'kill-agent', 'fill-disk'], loopback).slice(0, 2)).toEqual([
      'partition-pair needs simulated hosts (--hosts)', 'fill-disk needs simulated hosts (--hosts)',
    ]);
    expect(refusedFaults(['kill-zookeeper'], hosts)[0]).toMatch(/^kill-zookeeper is a loopback fault/);
    expect(refusedFaults(['jump-clock'], { hosts: true, clockJumps: false })[0]).toMatch(/^jump-clock needs libfaketime/);
    expect(refusedFaults([], hosts)).toEqual(['--faults names no fault']);
  });

  it('checks the other options too, and in-order play needs faults', () => {
    expect(refusedOptions({ seconds: 60 })).toEqual([]);
    expect(refusedOptions({ seconds: 0, concurrency: 1.5, agents: 0, inOrder: true })).toEqual([
      'seconds must be more than 0, got 0', 'concurrency must be a whole number of at least 1, got 1.5', 'agents must be a whole number of at least 1, got 0',
      'in order needs the faults to play (--faults)',
    ]);
  });
});

describe('npm run nemesis with faults it cannot make', () => {
  it('exits 2 with the reason before starting anything', async () => {
    const run = promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/nemesis.ts', '--seconds', '5', '--seed', '1', '--faults', 'kill-agent,partition-pair,melt-cpu'], { timeout: 60_000 });
    const failed = await run.then(() => null, (err: { code: number; stdout: string; stderr: string }) => err);
    expect(failed?.code).toBe(2);
    expect(failed?.stderr).toContain('npm run nemesis: partition-pair needs simulated hosts (--hosts)');
    expect(failed?.stderr).toContain("npm run nemesis: unknown fault 'melt-cpu'");
    expect(failed?.stdout).not.toContain('[nemesis]'); // Not even the seed's line: no cluster was started.
  }, 60_000);
});
