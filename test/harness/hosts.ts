// Simulated hosts for tests and benchmarks: the product's own
// (common/hosts/network.ts, which `mesos-ts local --hosts N` uses too),
// re-exported under the name the tests have always imported.
export { HostNetwork, HOSTS_STATE_DIR, processStart, sweepHosts, type Host } from '../../common/hosts/network.js';
