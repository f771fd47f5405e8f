// Marathon's readiness check, run by the framework: GET http://<agent host>:<port>/<path>
// against a new instance until it answers one of httpStatusCodesForReady. The
// runtime asks at most once per intervalSeconds per instance and stops once ready.
import type { AppDefinition, ReadinessCheck } from './app-definition.js';
import type { Instance } from './planner.js';

/** The URL the check probes for this instance, or null when the app has no such port. */
export function readinessUrl(app: AppDefinition, check: ReadinessCheck, inst: Instance): string | null {
  const index = app.portDefinitions.findIndex((p) => p.name === check.portName);
  const port = inst.ports[index];
  return index < 0 || port === undefined ? null : `http://${inst.agent.hostname}:${port}${check.path}`;
}

/** One probe: true when the answer's status is one of the ready codes; false on any other answer, error or timeout. */
export async function probeReady(url: string, check: ReadinessCheck): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(check.timeoutSeconds * 1000) });
    await res.body?.cancel();
    return check.httpStatusCodesForReady.includes(res.status);
  } catch {
    return false;
  }
}
