// --domain as Mesos takes it (master and agent): a DomainInfo in JSON, given
// inline or as the path of a file holding it (file:///path or /path). Only a
// fault domain exists: a region and a zone, each named.
import { readFileSync } from 'node:fs';
import { InvalidArgument } from './errors.js';
import type { DomainInfo } from '../proto/gen/mesos/v1/DomainInfo.js';

export type { DomainInfo };

export function parseDomain(text: string, flag = 'domain'): DomainInfo {
  const trimmed = text.trim();
  const json = trimmed.startsWith('{') ? trimmed : readDomainFile(trimmed.replace(/^file:\/\//, ''), flag);
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new InvalidArgument(`--${flag}: not JSON (${(err as Error).message})`);
  }
  const fault = (value as { fault_domain?: { region?: { name?: unknown }; zone?: { name?: unknown } } } | null)?.fault_domain;
  if (fault === undefined) return {};
  const region = fault.region?.name;
  const zone = fault.zone?.name;
  if (typeof region !== 'string' || region === '') throw new InvalidArgument(`--${flag}: fault_domain.region.name must be a non-empty string`);
  if (typeof zone !== 'string' || zone === '') throw new InvalidArgument(`--${flag}: fault_domain.zone.name must be a non-empty string`);
  return { fault_domain: { region: { name: region }, zone: { name: zone } } };
}

function readDomainFile(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new InvalidArgument(`--${flag}: '${path}' is neither DomainInfo JSON nor a readable file (${(err as Error).message})`);
  }
}
