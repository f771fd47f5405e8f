import { describe, expect, it } from 'vitest';
import { csvUrl, parseStatsCsv } from '../../framework/lb/haproxy-stats.js';

// A `show stat` answer cut down to a few columns, in an order of HAProxy's own (the parser finds them by name).
const csv = [
  '# pxname,svname,qcur,scur,smax,stot,status,rate,req_rate,req_tot,',
  'web_10000,FRONTEND,,3,9,120,OPEN,4,7,300,',
  'web_10000,web.1_0,0,2,5,70,UP,2,,,',
  'web_10000,web.2_0,0,1,4,50,DRAIN,1,,,',
  'web_10000,BACKEND,0,3,9,120,UP,4,,,',
  '',
].join('\n');

describe('HAProxy CSV statistics', () => {
  it('reads each row by column name', () => {
    const rows = parseStatsCsv(csv);
    expect(rows).toHaveLength(4);
    expect(rows[0]).toEqual({ proxy: 'web_10000', name: 'FRONTEND', sessions: 3, sessionRate: 4, requestRate: 7, sessionsTotal: 120, requestsTotal: 300, status: 'OPEN' });
    expect(rows[2]).toMatchObject({ name: 'web.2_0', sessions: 1, status: 'DRAIN', requestRate: 0 });
  });

  it('refuses text that is not CSV statistics', () => {
    expect(() => parseStatsCsv('<html>Unauthorized</html>')).toThrow(/no '# pxname/);
    expect(() => parseStatsCsv('# a,b\n1,2\n')).toThrow(/pxname\/svname/);
  });

  it('asks the stats page for its CSV form once', () => {
    expect(csvUrl('http://127.0.0.1:9090/haproxy?stats')).toBe('http://127.0.0.1:9090/haproxy?stats;csv');
    expect(csvUrl('http://127.0.0.1:9090/haproxy?stats;csv')).toBe('http://127.0.0.1:9090/haproxy?stats;csv');
  });
});
