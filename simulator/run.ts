// One simulation per policy on the same workload, and the files that
// describe them. Each policy gets a fresh allocator seeded with the
// workload's seed, and the workload's role weights and quotas.
import { InvalidArgument, errorMessage } from '../common/errors.js';
import type { Resources } from '../common/resources.js';
import { seededRandom, type Allocator, type AllocatorOptions } from '../master/allocator/index.js';
import { loadAllocator } from '../master/allocator/loader.js';
import { compareSvg, sharesSvg, utilizationSvg } from './charts.js';
import { simulate, type Progress, type SimulationResult } from './engine.js';
import { sharesCsv, summarize, tasksCsv, utilizationCsv, type PolicySummary } from './report.js';
import type { Workload } from './workload.js';

export interface PolicyRun {
  /** As given: a registered name or a module path. */
  readonly policy: string;
  /** File-name-safe label: the name, or a module's base name. */
  readonly label: string;
  readonly result: SimulationResult;
  readonly summary: PolicySummary;
  /** Wall time of the whole simulation, ms. */
  readonly wallMs: number;
}

export function allocatorOptions(workload: Workload): AllocatorOptions {
  const weights = new Map<string, number>();
  const quotas = new Map<string, { readonly guarantee?: Resources; readonly limit?: Resources }>();
  for (const [role, spec] of workload.roles) {
    if (spec.weight !== 1) weights.set(role, spec.weight);
    if (spec.quota) quotas.set(role, spec.quota);
  }
  return { random: seededRandom(workload.seed), weights, quotas };
}

/** A built-in policy by name or a user's module (loadAllocator); errors name --policies. */
export async function makeAllocator(policy: string, workload: Workload): Promise<Allocator> {
  try {
    return await loadAllocator(policy, allocatorOptions(workload));
  } catch (err) {
    // loadAllocator speaks of --allocator (the master's flag); here the policy came from --policies.
    if (err instanceof InvalidArgument) throw new InvalidArgument(`--policies: ${errorMessage(err).replace(/^--allocator /, '')}`, { cause: err });
    throw err;
  }
}

/** Splits and checks `drf,fifo,...`: each policy is created once up front, so a bad name fails before any run. */
export async function checkPolicies(list: string, workload: Workload): Promise<{ policy: string; label: string }[]> {
  const policies = list.split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (policies.length === 0) throw new InvalidArgument('--policies is empty: give one or more policy names, comma-separated');
  const labels = new Set<string>();
  const out: { policy: string; label: string }[] = [];
  for (const policy of policies) {
    await makeAllocator(policy, workload);
    const label = policyLabel(policy);
    if (labels.has(label)) throw new InvalidArgument(`--policies names '${label}' twice`);
    labels.add(label);
    out.push({ policy, label });
  }
  return out;
}

export async function runPolicy(policy: string, label: string, workload: Workload, onProgress?: (p: Progress) => void): Promise<PolicyRun> {
  const allocator = await makeAllocator(policy, workload);
  const t0 = performance.now();
  const result = simulate(workload, allocator, onProgress);
  return { policy, label, result, summary: summarize(result), wallMs: performance.now() - t0 };
}

/** Every output file of a comparison, by name: summary.json, per-policy CSVs and SVGs, compare.svg. */
export function outputFiles(runs: readonly PolicyRun[]): Map<string, string> {
  const summaries = new Map(runs.map((r) => [r.label, r.summary]));
  const files = new Map<string, string>([['summary.json', JSON.stringify(Object.fromEntries(summaries), null, 2) + '\n']]);
  for (const { label, result } of runs) {
    files.set(`${label}-shares.csv`, sharesCsv(result));
    files.set(`${label}-utilization.csv`, utilizationCsv(result));
    files.set(`${label}-tasks.csv`, tasksCsv(result));
    files.set(`${label}-shares.svg`, sharesSvg(label, result));
    files.set(`${label}-utilization.svg`, utilizationSvg(label, result));
  }
  files.set('compare.svg', compareSvg(summaries));
  return files;
}

/** `drf` stays `drf`; `./policies/my-policy.js` becomes `my-policy`. */
export function policyLabel(policy: string): string {
  const base = policy.split(/[\\/]/).at(-1) ?? policy;
  const label = base.replace(/\.(m?[jt]s)$/, '').replace(/[^A-Za-z0-9_.-]/g, '_');
  return label === '' ? 'policy' : label;
}
