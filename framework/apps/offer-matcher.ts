// Offers against the launch queue. Pure: for each offer, in order, the
// queued apps take what fits (resources, ports, constraints against where
// the app already runs, including what this round placed); every refusal is
// kept with Marathon's reason name and a one-line message, for /v2/queue.
import type { OfferOut } from '../../proto/index.js';
import { Resources, rangeValues } from '../../common/resources.js';
import { fitDemand, type Demand } from '../sdk/matching.js';
import type { AppDefinition } from './app-definition.js';
import { placementRefusal, type AgentFacts } from './constraints.js';

/** Marathon's names for why an offer was not used (NoOfferMatchReason). */
export type NoMatchReason = 'UnfulfilledRole' | 'UnfulfilledConstraint' | 'InsufficientCpus' | 'InsufficientMemory' | 'InsufficientDisk' | 'InsufficientPorts';

/** An offer as the matcher sees it. */
export interface OfferView {
  readonly id: string;
  readonly agentId: string;
  readonly agent: AgentFacts;
  readonly resources: Resources;
  readonly role?: string;
  /** The agent's HTTP endpoint, `scheme://ip:port` (Offer.url). */
  readonly url?: string;
}

/** An app waiting for `count` launches; `placed`: the agents of its live instances. */
export interface Wanted {
  readonly app: AppDefinition;
  readonly count: number;
  readonly placed: readonly AgentFacts[];
}

export interface Launch {
  readonly offer: OfferView;
  readonly app: AppDefinition;
  readonly resources: Resources;
  readonly ports: readonly number[];
}

export interface Refusal {
  readonly offerId: string;
  readonly agentId: string;
  readonly hostname: string;
  readonly reason: NoMatchReason;
  readonly message: string;
}

export interface MatchResult {
  readonly launches: readonly Launch[];
  /** Offers nothing was launched on: decline them. */
  readonly unused: readonly OfferView[];
  /** Per app id, why offers were refused this round. */
  readonly refusals: ReadonlyMap<string, readonly Refusal[]>;
}

/** What one instance of the app takes: cpus, mem, disk, and its ports (the given ones with requirePorts, else any). */
export function appDemand(app: AppDefinition): Demand {
  const scalars: Record<string, number> = { cpus: app.cpus, mem: app.mem };
  if (app.disk > 0) scalars.disk = app.disk;
  let resources = Resources.scalars(scalars);
  if (app.requirePorts && app.portDefinitions.length > 0) {
    resources = resources.add(Resources.fromEntries([{ name: 'ports', role: '*', value: { kind: 'ranges', ranges: app.portDefinitions.map((p) => [p.port, p.port] as const) } }]));
    return { resources, ports: 0 };
  }
  return { resources, ports: app.portDefinitions.length };
}

function classify(message: string): NoMatchReason {
  if (message.startsWith('needs cpus')) return 'InsufficientCpus';
  if (message.startsWith('needs mem')) return 'InsufficientMemory';
  if (message.startsWith('needs disk')) return 'InsufficientDisk';
  return 'InsufficientPorts';
}

/** Places the queue's launches into the offers; see the file's head. */
export function matchOffers(offers: readonly OfferView[], wanted: readonly Wanted[]): MatchResult {
  const left = wanted.map((w) => ({ ...w, count: w.count, placed: [...w.placed] }));
  const launches: Launch[] = [];
  const unused: OfferView[] = [];
  const refusals = new Map<string, Refusal[]>();
  const refuse = (appId: string, offer: OfferView, reason: NoMatchReason, message: string): void => {
    const list = refusals.get(appId) ?? [];
    list.push({ offerId: offer.id, agentId: offer.agentId, hostname: offer.agent.hostname, reason, message });
    refusals.set(appId, list);
  };
  for (const offer of offers) {
    let remaining = offer.resources;
    let used = false;
    for (const w of left) {
      while (w.count > 0) {
        const why = placementRefusal(w.app.constraints, offer.agent, w.placed);
        if (why) {
          refuse(w.app.id, offer, 'UnfulfilledConstraint', why);
          break;
        }
        const fit = fitDemand(remaining, appDemand(w.app));
        if (!fit.resources) {
          refuse(w.app.id, offer, classify(fit.reason), `agent ${offer.agent.hostname}: ${fit.reason}`);
          break;
        }
        remaining = remaining.subtract(fit.resources);
        const ports = rangeValues(fit.resources.ranges('ports'));
        launches.push({ offer, app: w.app, resources: fit.resources, ports: w.app.requirePorts ? w.app.portDefinitions.map((p) => p.port) : ports });
        w.count--;
        w.placed.push(offer.agent);
        used = true;
      }
    }
    if (!used) unused.push(offer);
  }
  return { launches, unused, refusals };
}

/** The parts of an offer the matcher and constraints need. */
export function offerView(offer: OfferOut): OfferView {
  const attributes: Record<string, string> = {};
  for (const a of offer.attributes ?? []) {
    if (a.text) attributes[a.name] = a.text.value;
    else if (a.scalar) attributes[a.name] = String(a.scalar.value);
    else if (a.set) attributes[a.name] = a.set.item.join(',');
  }
  const agent: AgentFacts = { hostname: offer.hostname, attributes };
  const role = offer.allocation_info?.role || undefined;
  const address = offer.url?.address;
  const host = address?.ip || address?.hostname;
  return {
    id: offer.id?.value ?? '', agentId: offer.agent_id?.value ?? '', agent,
    resources: Resources.fromProto(offer.resources ?? [], 'offer.resources'),
    ...(role && { role }),
    ...(host && address?.port && { url: `${offer.url?.scheme || 'http'}://${host.includes(':') ? `[${host}]` : host}:${address.port}` }),
  };
}
