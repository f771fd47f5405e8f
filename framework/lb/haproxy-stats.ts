/**
 * HAProxy's statistics as CSV: the same table `show stat` answers on the
 * admin socket and the statistics page answers at `/haproxy?stats;csv`.
 *
 * It is the load balancer's public, HAProxy-standard read interface: the
 * apps framework reads it over HTTP (from `mesos-ts lb`, or from any
 * marathon-lb, whose stats page is the same) for request rates and for the
 * connections a draining server still has, and `mesos-ts lb` reads it from
 * its admin socket.
 *
 * Columns are found by name from the header line (`# pxname,svname,...`), so
 * a HAProxy version that adds columns reads the same. Rows are proxies
 * (`svname` FRONTEND or BACKEND) and servers (any other `svname`).
 */

export interface StatRow {
  /** The proxy: a frontend or a backend (`pxname`). */
  readonly proxy: string;
  /** `FRONTEND`, `BACKEND`, or a server's name (`svname`). */
  readonly name: string;
  /** Sessions open now (`scur`). */
  readonly sessions: number;
  /** Sessions per second over the last second (`rate`). */
  readonly sessionRate: number;
  /** HTTP requests per second over the last second (`req_rate`; frontends only, 0 elsewhere). */
  readonly requestRate: number;
  /** Sessions since start (`stot`). */
  readonly sessionsTotal: number;
  /** HTTP requests since start (`req_tot`; 0 in tcp mode). */
  readonly requestsTotal: number;
  /** UP, DOWN, DRAIN, MAINT, no check, ... (`status`). */
  readonly status: string;
}

/** Parses `show stat` / `;csv` output; throws on text that has no header line. */
export function parseStatsCsv(text: string): StatRow[] {
  const lines = text.split('\n');
  const headerLine = lines.find((l) => l.startsWith('# '));
  if (headerLine === undefined) throw new Error(`not HAProxy CSV statistics (no '# pxname,...' header): ${JSON.stringify(text.slice(0, 80))}`);
  const header = headerLine.slice(2).split(',');
  const column = (name: string): number => header.indexOf(name);
  const at = {
    pxname: column('pxname'), svname: column('svname'), scur: column('scur'), rate: column('rate'),
    req_rate: column('req_rate'), stot: column('stot'), req_tot: column('req_tot'), status: column('status'),
  };
  if (at.pxname < 0 || at.svname < 0) throw new Error('HAProxy CSV statistics without pxname/svname columns');
  const number = (cells: string[], index: number): number => {
    const value = index < 0 ? NaN : Number(cells[index]);
    return Number.isFinite(value) ? value : 0;
  };
  return lines
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split(','))
    .filter((cells) => cells.length > Math.max(at.pxname, at.svname))
    .map((cells) => ({
      proxy: cells[at.pxname]!,
      name: cells[at.svname]!,
      sessions: number(cells, at.scur),
      sessionRate: number(cells, at.rate),
      requestRate: number(cells, at.req_rate),
      sessionsTotal: number(cells, at.stot),
      requestsTotal: number(cells, at.req_tot),
      status: at.status < 0 ? '' : (cells[at.status] ?? ''),
    }));
}

/** The statistics page's CSV form of a stats URL (`http://lb:9090/haproxy?stats` → `...?stats;csv`). */
export function csvUrl(statsUrl: string): string {
  return /;csv/.test(statsUrl) ? statsUrl : `${statsUrl};csv`;
}

/** Reads and parses the statistics of one load balancer's stats page. */
export async function fetchStats(statsUrl: string, options: { signal?: AbortSignal } = {}): Promise<StatRow[]> {
  const response = await fetch(csvUrl(statsUrl), { signal: options.signal ?? AbortSignal.timeout(2000) });
  if (!response.ok) throw new Error(`${statsUrl}: HTTP ${response.status}`);
  return parseStatsCsv(await response.text());
}
