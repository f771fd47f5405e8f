// The master's allocation flags, parsed into AllocatorOptions. Each error
// names the flag and the part of its value that is wrong.
//
//   --weights=ops=2,dev=0.5                     Mesos's syntax: ROLE=WEIGHT,...
//   --quota=ops:cpus:4;mem:1024/cpus:8,dev:cpus:1
//        ROLE:GUARANTEE[/LIMIT],...  (a limit alone: batch:/cpus:16)
//   --quota=[{"role":"ops","guarantees":{"cpus":4},"limits":{"cpus":8}}]
//   --quota=/etc/mesos-ts/quota.json            the same JSON in a file
//   --min_allocatable_resources=cpus:0.01|mem:32   Mesos's syntax: alternatives
//
// Quota takes unreserved scalar resources only (not ports), the role may not
// be '*', and a guarantee may not exceed its limit (as Mesos checks them).
import { readFileSync } from 'node:fs';
import { InvalidArgument, errorMessage } from '../../common/errors.js';
import { Resources, UNRESERVED } from '../../common/resources.js';
import { validateRole } from '../validation.js';
import type { RoleQuota } from './allocator.js';

export function parseWeights(text: string, flag = 'weights'): Map<string, number> {
  const weights = new Map<string, number>();
  for (const item of items(text)) {
    const m = /^([^=]+)=(.*)$/.exec(item);
    if (!m) throw new InvalidArgument(`--${flag}: '${item}' is not ROLE=WEIGHT`);
    const role = m[1]!.trim();
    checkRole(role, flag, item);
    const weight = Number(m[2]!.trim());
    if (m[2]!.trim() === '' || !Number.isFinite(weight) || weight <= 0) {
      throw new InvalidArgument(`--${flag}: '${item}': the weight must be a positive number`);
    }
    if (weights.has(role)) throw new InvalidArgument(`--${flag}: role '${role}' is given twice`);
    weights.set(role, weight);
  }
  return weights;
}

export function parseQuota(text: string, flag = 'quota'): Map<string, RoleQuota> {
  const trimmed = text.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) return quotaFromJson(trimmed, flag, 'the value');
  if (trimmed.endsWith('.json')) {
    let content: string;
    try {
      content = readFileSync(trimmed, 'utf8');
    } catch (err) {
      throw new InvalidArgument(`--${flag}: cannot read ${trimmed}: ${errorMessage(err)}`);
    }
    return quotaFromJson(content, flag, trimmed);
  }
  const quotas = new Map<string, RoleQuota>();
  for (const item of items(trimmed)) {
    const colon = item.indexOf(':');
    if (colon <= 0) throw new InvalidArgument(`--${flag}: '${item}' is not ROLE:GUARANTEE[/LIMIT] (e.g. ops:cpus:4;mem:1024/cpus:8)`);
    const role = item.slice(0, colon).trim();
    const [guaranteeText = '', limitText, extra] = item.slice(colon + 1).split('/');
    if (extra !== undefined) throw new InvalidArgument(`--${flag}: '${item}' has more than one '/' (GUARANTEE/LIMIT)`);
    const quota: RoleQuota = {
      ...(guaranteeText.trim() ? { guarantee: quotaResources(guaranteeText, flag, item) } : {}),
      ...(limitText?.trim() ? { limit: quotaResources(limitText, flag, item) } : {}),
    };
    addQuota(quotas, role, quota, flag, item);
  }
  return quotas;
}

/** Mesos's --min_allocatable_resources: bundles separated by '|', e.g. `cpus:0.01|mem:32`. */
export function parseMinAllocatable(text: string, flag = 'min_allocatable_resources'): Resources[] {
  return text.split('|').map((part) => {
    const bundle = quotaResources(part, flag, part.trim());
    if (bundle.isEmpty()) throw new InvalidArgument(`--${flag}: '${part.trim()}' is empty`);
    return bundle;
  });
}

function items(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function checkRole(role: string, flag: string, item: string): void {
  try {
    validateRole(role, `--${flag}`);
  } catch {
    throw new InvalidArgument(`--${flag}: '${item}': '${role}' is not a valid role name`);
  }
}

/** Unreserved scalar resources, e.g. `cpus:4;mem:1024`. */
function quotaResources(text: string, flag: string, item: string): Resources {
  let r: Resources;
  try {
    r = Resources.parse(text);
  } catch (err) {
    throw new InvalidArgument(`--${flag}: '${item}': ${errorMessage(err)}`);
  }
  for (const e of r.list()) {
    if (e.value.kind !== 'scalar') throw new InvalidArgument(`--${flag}: '${item}': '${e.name}' is not a scalar resource (only scalar resources)`);
    if (e.role !== UNRESERVED) throw new InvalidArgument(`--${flag}: '${item}': '${e.name}(${e.role})' must be unreserved (no role)`);
  }
  return r;
}

function addQuota(quotas: Map<string, RoleQuota>, role: string, quota: RoleQuota, flag: string, item: string): void {
  if (role === UNRESERVED) throw new InvalidArgument(`--${flag}: '${item}': quota cannot be set for role '*'`);
  checkRole(role, flag, item);
  if (quotas.has(role)) throw new InvalidArgument(`--${flag}: role '${role}' is given twice`);
  if (!quota.guarantee && !quota.limit) throw new InvalidArgument(`--${flag}: '${item}' gives neither a guarantee nor a limit`);
  for (const e of quota.guarantee?.list() ?? []) {
    const limit = quota.limit?.list().find((l) => l.name === e.name);
    if (limit && limit.value.kind === 'scalar' && e.value.kind === 'scalar' && e.value.value > limit.value.value) {
      throw new InvalidArgument(`--${flag}: '${item}': the guarantee of ${e.name} (${e.value.value}) is above its limit (${limit.value.value})`);
    }
  }
  quotas.set(role, quota);
}

/** Mesos's QuotaConfig as JSON: `[{ "role": "ops", "guarantees": { "cpus": 4 }, "limits": { "cpus": 8 } }]` (or one object). */
function quotaFromJson(text: string, flag: string, source: string): Map<string, RoleQuota> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgument(`--${flag}: ${source} is not valid JSON: ${errorMessage(err)}`);
  }
  const list = Array.isArray(parsed) ? parsed : [parsed];
  const quotas = new Map<string, RoleQuota>();
  list.forEach((entry, i) => {
    const where = `${source}[${i}]`;
    if (typeof entry !== 'object' || entry === null) throw new InvalidArgument(`--${flag}: ${where} is not an object`);
    const { role, guarantees, limits, ...rest } = entry as Record<string, unknown>;
    const unknown = Object.keys(rest);
    if (unknown.length > 0) throw new InvalidArgument(`--${flag}: ${where}: unknown field '${unknown[0]}' (role, guarantees, limits)`);
    if (typeof role !== 'string' || role === '') throw new InvalidArgument(`--${flag}: ${where}.role must be a non-empty string`);
    const quota: RoleQuota = {
      ...(guarantees !== undefined ? { guarantee: scalarsFromJson(guarantees, flag, `${where}.guarantees`) } : {}),
      ...(limits !== undefined ? { limit: scalarsFromJson(limits, flag, `${where}.limits`) } : {}),
    };
    addQuota(quotas, role, quota, flag, where);
  });
  return quotas;
}

function scalarsFromJson(value: unknown, flag: string, where: string): Resources {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgument(`--${flag}: ${where} must be an object of resource names to amounts, e.g. {"cpus": 4}`);
  }
  const out: Record<string, number> = {};
  for (const [name, amount] of Object.entries(value)) {
    if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0) {
      throw new InvalidArgument(`--${flag}: ${where}.${name} must be a non-negative number, got ${JSON.stringify(amount)}`);
    }
    out[name] = amount;
  }
  return Resources.scalars(out);
}
