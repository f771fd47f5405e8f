// Static files for the web pages (the master's UI and the apps framework's
// page): served by name from one folder, never from a subfolder, with the
// security headers both pages rely on. Files are read once and kept.
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};
// Only what the folder holds is served; the name is checked before any file is read.
const ASSET_NAME = /^[a-z][a-z0-9-]*\.(html|js|css)$/;
// The pages build their DOM with textContent, never innerHTML; the policy is a second fence.
export const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-cache',
};

/** Answers a file of `dir` by name (false when the name is not one of its files: the caller answers 404). */
export type AssetServer = (name: string, res: ServerResponse) => Promise<boolean>;

export function staticAssets(dir: URL): AssetServer {
  const cache = new Map<string, Buffer>();
  return async (name, res) => {
    const match = ASSET_NAME.exec(name);
    if (!match) return false;
    let body = cache.get(name);
    if (!body) {
      try {
        body = await readFile(new URL(name, dir));
      } catch {
        return false;
      }
      cache.set(name, body);
    }
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': CONTENT_TYPES[match[1]!]!, 'Content-Length': body.length });
    res.end(body);
    return true;
  };
}
