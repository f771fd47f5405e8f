// What the apps page works out from the REST API's answers
// (framework/apps/webui/assets/apps-view.js): status words, health, a
// deployment's steps and progress, and why queued launches wait.
import { describe, expect, it } from 'vitest';
import { appCounts, appStatus, deploymentProgress, deploymentSteps, instanceHealth, instanceVersion, waitingReason } from '../../framework/apps/webui/assets/apps-view.js';

const CHECK = [{ protocol: 'COMMAND' }];

describe('apps page view', () => {
  it.each([
    ['deploying while a deployment holds it', { instances: 2, tasksRunning: 2, deployments: [{ id: 'd' }] }, 'deploying'],
    ['running with every wanted instance', { instances: 2, tasksRunning: 2, deployments: [] }, 'running'],
    ['waiting with fewer', { instances: 2, tasksRunning: 1, deployments: [] }, 'waiting'],
    ['suspended at 0 instances', { instances: 0, tasksRunning: 0, deployments: [] }, 'suspended'],
  ])('an app is %s', (_, app, status) => expect(appStatus(app)).toBe(status));

  it('counts healthy instances only for an app with a check', () => {
    expect(appCounts({ instances: 3, tasksRunning: 2, tasksHealthy: 1, healthChecks: CHECK })).toEqual({ running: 2, healthy: 1, wanted: 3 });
    expect(appCounts({ instances: 3, tasksRunning: 2, tasksHealthy: 0, healthChecks: [] })).toEqual({ running: 2, healthy: null, wanted: 3 });
    expect(instanceHealth({ healthCheckResults: [{ alive: false }] }, { healthChecks: CHECK })).toBe('unhealthy');
    expect(instanceHealth({}, { healthChecks: CHECK })).toBe('unknown');
    expect(instanceHealth({}, { healthChecks: [] })).toBe('no check');
  });

  it("calls an instance current when it runs the app's configuration, whatever scales came since", () => {
    const app = { version: '2026-12-06T08:05:00Z', versionInfo: { lastConfigChangeAt: '2026-12-06T08:00:00Z' } };
    expect(instanceVersion({ version: '2026-12-06T08:00:00Z' }, app)).toBe('current');
    expect(instanceVersion({ version: '2026-12-06T07:00:00Z' }, app)).toBe('2026-12-06T07:00:00Z');
  });

  it("marks a deployment's steps by Marathon's 1-based currentStep, and its progress by healthy or running instances", () => {
    const d = { affectedApps: ['/a'], currentStep: 2, steps: [{ actions: [{ action: 'StartApplication' }] }, { actions: [{ action: 'ScaleApplication' }] }, { actions: [] }] };
    expect(deploymentSteps(d).map((s) => s.state)).toEqual(['done', 'current', 'pending']);
    expect(deploymentProgress(d, new Map([['/a', { instances: 3, tasksRunning: 2, tasksHealthy: 1, healthChecks: CHECK }]]))).toEqual({ done: 1, wanted: 3, text: '1 of 3 healthy' });
    expect(deploymentProgress(d, new Map([['/a', { instances: 3, tasksRunning: 2 }]])).text).toBe('2 of 3 running');
    expect(deploymentProgress(d, new Map()).text).toBe('app removed: stopping its instances');
  });

  it('says why launches wait: dependencies first, then the backoff, then what refused the offers', () => {
    const refused = {
      delay: { timeLeftSeconds: 0 },
      processedOffersSummary: { rejectSummaryLastOffers: [{ reason: 'UnfulfilledConstraint', declined: 2, processed: 2 }, { reason: 'InsufficientCpus', declined: 0, processed: 2 }] },
      lastUnusedOffers: [{ offer: { hostname: 'host-b' }, reason: ['UnfulfilledConstraint'], message: "hostname:UNIQUE: an instance already runs where hostname is 'host-b'" }],
    };
    expect(waitingReason(refused)).toEqual({ reason: 'UnfulfilledConstraint (2 of 2 offers)', detail: "host-b: hostname:UNIQUE: an instance already runs where hostname is 'host-b'" });
    expect(waitingReason({ ...refused, delay: { timeLeftSeconds: 4 } })!.reason).toBe('launch backoff: 4s left');
    expect(waitingReason({ ...refused, waitingForDependencies: ['/db'] })).toEqual({ reason: 'waiting for dependencies', detail: '/db' });
    expect(waitingReason({ delay: { timeLeftSeconds: 0 } })).toEqual({ reason: 'waiting for offers', detail: '' });
    expect(waitingReason(undefined)).toBeNull();
  });
});
