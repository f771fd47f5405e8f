// JSON answers as libprocess writes them (OK(json, jsonp)): with
// `?jsonp=NAME`, the body becomes `NAME(json);` in text/javascript, as
// Mesos's web UI reads masters and agents; else plain application/json.
// The one writer for the master's v0 endpoints, its v0 operator reads and
// the agent's endpoints. A callback that is not a JavaScript name (dotted
// names allowed, as angular.callbacks._0) is refused with 400: the answer
// is script a browser runs, so the caller may not choose arbitrary code.
import type { ServerResponse } from 'node:http';

const CALLBACK = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*$/;

/** Whether `name` may wrap a JSONP answer. */
export function isJsonpCallback(name: string): boolean {
  return name.length <= 256 && CALLBACK.test(name);
}

/**
 * 200 with `json` (already serialized; as UTF-8 bytes when the caller keeps
 * them for many requests), wrapped for `callback` (the request's ?jsonp, or
 * null); 400 for a callback that is not a name.
 */
export function writeJson(res: ServerResponse, json: string | Buffer, callback: string | null): void {
  if (callback !== null && !isJsonpCallback(callback)) {
    const body = `'jsonp' must be a JavaScript name, got '${callback.slice(0, 100)}'\n`;
    res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) }).end(body);
    return;
  }
  if (callback === null) {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json) }).end(json);
    return;
  }
  const out = typeof json === 'string' ? `${callback}(${json});` : Buffer.concat([Buffer.from(`${callback}(`), json, Buffer.from(');')]);
  res.writeHead(200, { 'Content-Type': 'text/javascript', 'Content-Length': Buffer.byteLength(out) }).end(out);
}
