// The apps page's HTTP side: `/ui/` (index.html) and its static files, its
// own (./assets) and the two it shares with the master's UI (the stylesheet
// and the DOM helpers, master/webui/assets), so both pages look alike from
// one copy. The page reads the REST API from the same origin; see
// docs/apps.md. Only the leader serves it: a standby redirects `/ui/` as it
// redirects the API (http-api.ts), so the page and the API it reads always
// share one origin (a redirected API call from another origin would be
// refused by the browser: we answer no CORS headers).
//
//   GET /ui, /ui/     index.html
//   GET /ui/<file>    a file of ./assets, else style.css or dom.js of the master's UI
import type { ServerResponse } from 'node:http';
import { staticAssets } from '../../../master/webui/static-assets.js';

const OWN = staticAssets(new URL('./assets/', import.meta.url));
const MASTER = staticAssets(new URL('../../../master/webui/assets/', import.meta.url));
const SHARED = new Set(['style.css', 'dom.js']);

/** Answers `/ui/...`; false when the path is not the page or one of its files (the caller answers 404). */
export async function serveAppsUi(pathname: string, res: ServerResponse): Promise<boolean> {
  if (pathname === '/ui' || pathname === '/ui/') return OWN('index.html', res);
  if (!pathname.startsWith('/ui/')) return false;
  const name = pathname.slice('/ui/'.length);
  if (SHARED.has(name)) return MASTER(name, res);
  return OWN(name, res);
}
