// `--lb_stats URL[,URL]`: the HAProxy statistics pages of the load balancers
// in front of the apps (`mesos-ts lb` serves one at
// http://HOST:9090/haproxy?stats; marathon-lb's is the same page). The apps
// framework reads them to know when a draining instance's servers are empty,
// and the autoscaler reads the apps' request rates there.
import { InvalidArgument } from '../../common/errors.js';

export const LB_STATS_FLAG = {
  lb_stats: {
    type: 'string',
    help: "HAProxy statistics pages of the load balancers in front of the apps, comma-separated (e.g. http://127.0.0.1:9090/haproxy?stats, mesos-ts lb's or marathon-lb's): where drains are watched and the autoscaler reads requestsPerSecond; default: none",
  },
} as const;

/** The URLs of `--lb_stats`: comma-separated, blanks dropped, each http:// or https://; anything else is refused, naming it. */
export function parseLbStats(text: string | undefined): string[] {
  const urls = (text ?? '').split(',').map((u) => u.trim()).filter((u) => u !== '');
  for (const url of urls) {
    let parsed: URL | null = null;
    try {
      parsed = new URL(url);
    } catch {
      // refused below
    }
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.hostname === '') {
      throw new InvalidArgument(`--lb_stats must be http(s) URLs of HAProxy statistics pages, comma-separated; '${url}' is not one`);
    }
  }
  return urls;
}
