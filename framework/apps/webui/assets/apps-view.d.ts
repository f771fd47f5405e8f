// Types of apps-view.js (a browser module the unit tests import too); the
// arguments are the REST API's JSON as the page receives it.
type Json = Record<string, any>;
export function appStatus(app: Json): 'deploying' | 'running' | 'waiting' | 'suspended';
export function appCounts(app: Json): { running: number; healthy: number | null; wanted: number };
export function instanceHealth(task: Json, app: Json | undefined): 'healthy' | 'unhealthy' | 'unknown' | 'no check';
export function instanceVersion(task: Json, app: Json): string;
export function deploymentSteps(deployment: Json): { actions: string; state: 'done' | 'current' | 'pending' }[];
export function deploymentProgress(deployment: Json, appsById: Map<string, Json>): { done: number; wanted: number; text: string };
export function waitingReason(entry: Json | undefined): { reason: string; detail: string } | null;
export function ageOf(iso: string, now: number): number | null;
