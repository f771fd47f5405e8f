// A request to the apps REST API that follows a standby's redirect to the
// leader itself, credentials kept. fetch would follow it but drop the
// Authorization header, as the Fetch standard does on a redirect to another
// origin, and a leader is always another host:port. Sending the credential
// on is safe here: the standby proved it before naming its leader, which
// shares the same credentials. Used by `mesos-ts app` and `mesos-ts lb`.
import type { Fetch } from '../../common/tls-fetch.js';

/** How many redirects a request follows: a standby names the leader, which answers itself. */
const MAX_HOPS = 3;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * `fetchFn(url, init)`, following up to three redirects with the same
 * method, headers and body (the API's are 307s: method and body kept).
 */
export async function fetchFollowingLeader(fetchFn: Fetch, url: string, init: RequestInit = {}): Promise<Response> {
  let target = url;
  for (let hop = 0; ; hop++) {
    const res = await fetchFn(target, { ...init, redirect: 'manual' });
    const location = res.headers.get('location');
    if (!REDIRECTS.has(res.status) || location === null) return res;
    await res.body?.cancel();
    if (hop === MAX_HOPS) throw new Error(`${url}: more than ${MAX_HOPS} redirects (last to ${location})`);
    const next = new URL(location, target);
    if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new Error(`${target} redirected to ${next.protocol} (${location})`);
    // Never from TLS to plain text, where the credential would travel in clear.
    if (new URL(target).protocol === 'https:' && next.protocol === 'http:') throw new Error(`${target} redirected to plain text (${location})`);
    target = next.href;
  }
}
