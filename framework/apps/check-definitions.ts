// The checks of an app definition: health checks (run by the agent, as
// Mesos HealthCheck) and readiness checks (run by the framework during
// deployments), with Marathon's field names and defaults. Pure.
import { knownFields, num, isObject, show, type Collector } from './json-fields.js';

export type HealthProtocol = 'MESOS_HTTP' | 'MESOS_TCP' | 'COMMAND' | 'HTTP' | 'TCP';

export interface HealthCheck {
  readonly protocol: HealthProtocol;
  readonly path?: string;
  readonly portIndex?: number;
  readonly port?: number;
  readonly command?: { readonly value: string };
  readonly gracePeriodSeconds: number;
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  readonly maxConsecutiveFailures: number;
  readonly delaySeconds: number;
}

/** Marathon's readiness check: HTTP from the framework to a new instance, which counts for its deployment once ready. */
export interface ReadinessCheck {
  readonly name: string;
  readonly protocol: 'HTTP';
  readonly path: string;
  readonly portName: string;
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  readonly httpStatusCodesForReady: readonly number[];
  readonly preserveLastResponse: boolean;
}

export const HEALTH_DEFAULTS = { gracePeriodSeconds: 300, intervalSeconds: 60, timeoutSeconds: 20, maxConsecutiveFailures: 3, delaySeconds: 15 } as const;

const PROTOCOLS: readonly HealthProtocol[] = ['MESOS_HTTP', 'MESOS_TCP', 'COMMAND', 'HTTP', 'TCP'];


/** The app's healthChecks (at most one: Mesos runs one per task). */
export function parseHealthChecks(c: Collector, v: unknown, ports: number): HealthCheck[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    c.add('/healthChecks', `expected an array, got ${show(v)}`);
    return [];
  }
  if (v.length > 1) c.add('/healthChecks', 'at most one health check is supported (Mesos runs one per task)');
  return v.flatMap((h, i): HealthCheck[] => {
    const path = `/healthChecks(${i})`;
    if (!isObject(h)) {
      c.add(path, `expected an object, got ${show(h)}`);
      return [];
    }
    knownFields(c, h, path, ['protocol', 'path', 'portIndex', 'port', 'command', 'gracePeriodSeconds', 'intervalSeconds', 'timeoutSeconds', 'maxConsecutiveFailures', 'delaySeconds', 'ignoreHttp1xx', 'ipProtocol']);
    const protocol = (h.protocol ?? 'HTTP') as HealthProtocol;
    if (!PROTOCOLS.includes(protocol)) c.add(`${path}/protocol`, `expected one of ${PROTOCOLS.join(', ')}, got ${show(h.protocol)}`);
    if (h.ipProtocol !== undefined && h.ipProtocol !== 'IPv4') c.add(`${path}/ipProtocol`, 'only IPv4 is supported');
    const secs = (field: string, def: number): number => num(c, h, field, `${path}/${field}`, def, { min: 0, integer: true });
    const check = {
      protocol,
      gracePeriodSeconds: secs('gracePeriodSeconds', HEALTH_DEFAULTS.gracePeriodSeconds),
      intervalSeconds: secs('intervalSeconds', HEALTH_DEFAULTS.intervalSeconds),
      timeoutSeconds: secs('timeoutSeconds', HEALTH_DEFAULTS.timeoutSeconds),
      maxConsecutiveFailures: secs('maxConsecutiveFailures', HEALTH_DEFAULTS.maxConsecutiveFailures),
      delaySeconds: secs('delaySeconds', HEALTH_DEFAULTS.delaySeconds),
    };
    if (protocol === 'COMMAND') {
      const command = h.command;
      if (!isObject(command) || typeof command.value !== 'string' || command.value.trim() === '') c.add(`${path}/command`, 'a COMMAND check needs command: {"value": "..."}');
      return [{ ...check, command: { value: String(isObject(command) ? command.value : '') } }];
    }
    if (h.command !== undefined) c.add(`${path}/command`, `only COMMAND checks take a command (this one is ${protocol})`);
    if (h.port !== undefined && h.portIndex !== undefined) c.add(path, 'give port or portIndex, not both');
    let portIndex: number | undefined;
    if (h.port !== undefined) num(c, h, 'port', `${path}/port`, 0, { min: 1, max: 65535, integer: true });
    else {
      portIndex = num(c, h, 'portIndex', `${path}/portIndex`, 0, { min: 0, integer: true });
      if (portIndex >= ports) c.add(`${path}/portIndex`, `is ${portIndex}, but the app has ${ports} port(s)`);
    }
    const isHttp = protocol === 'HTTP' || protocol === 'MESOS_HTTP';
    if (h.path !== undefined && (!isHttp || typeof h.path !== 'string' || !h.path.startsWith('/'))) c.add(`${path}/path`, `a path starting with '/' is only for HTTP checks, got ${show(h.path)}`);
    return [{
      ...check,
      ...(isHttp && { path: typeof h.path === 'string' ? h.path : '/' }),
      ...(portIndex !== undefined && { portIndex }),
      ...(typeof h.port === 'number' && { port: h.port }),
    }];
  });
}

/** The app's readinessChecks (at most one), each naming one of the app's ports. */
export function parseReadinessChecks(c: Collector, v: unknown, ports: readonly { readonly name?: string }[]): ReadinessCheck[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    c.add('/readinessChecks', `expected an array, got ${show(v)}`);
    return [];
  }
  if (v.length > 1) c.add('/readinessChecks', 'at most one readiness check is supported');
  return v.flatMap((r, i): ReadinessCheck[] => {
    const path = `/readinessChecks(${i})`;
    if (!isObject(r)) {
      c.add(path, `expected an object, got ${show(r)}`);
      return [];
    }
    knownFields(c, r, path, ['name', 'protocol', 'path', 'portName', 'intervalSeconds', 'timeoutSeconds', 'httpStatusCodesForReady', 'preserveLastResponse']);
    if (r.protocol !== undefined && r.protocol !== 'HTTP') c.add(`${path}/protocol`, `only HTTP is supported, got ${show(r.protocol)}`);
    const portName = r.portName ?? 'http-api';
    if (typeof portName !== 'string' || !ports.some((p) => p.name === portName)) c.add(`${path}/portName`, `no port definition is named ${show(portName)}`);
    if (r.path !== undefined && (typeof r.path !== 'string' || !r.path.startsWith('/'))) c.add(`${path}/path`, `expected a path starting with '/', got ${show(r.path)}`);
    const codes = r.httpStatusCodesForReady ?? [200];
    if (!Array.isArray(codes) || codes.length === 0 || codes.some((x) => !Number.isInteger(x) || x < 100 || x > 599)) {
      c.add(`${path}/httpStatusCodesForReady`, `expected HTTP status codes, got ${show(codes)}`);
    }
    if (r.name !== undefined && (typeof r.name !== 'string' || r.name === '')) c.add(`${path}/name`, `expected a non-empty string, got ${show(r.name)}`);
    const intervalSeconds = num(c, r, 'intervalSeconds', `${path}/intervalSeconds`, 30, { min: 1, integer: true });
    const timeoutSeconds = num(c, r, 'timeoutSeconds', `${path}/timeoutSeconds`, 10, { min: 1, integer: true });
    if (timeoutSeconds > intervalSeconds) c.add(`${path}/timeoutSeconds`, `must be at most intervalSeconds (${intervalSeconds})`);
    return [{
      name: typeof r.name === 'string' ? r.name : 'readinessCheck', protocol: 'HTTP', path: typeof r.path === 'string' ? r.path : '/', portName: String(portName),
      intervalSeconds, timeoutSeconds, httpStatusCodesForReady: Array.isArray(codes) ? (codes as number[]) : [200], preserveLastResponse: r.preserveLastResponse === true,
    }];
  });
}
