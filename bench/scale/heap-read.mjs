// Reads a V8 .heapsnapshot without JSON.parse of the whole (a master with
// 50,000 tasks writes some 650 MB, past the longest string V8 makes): the
// nodes and edges into typed arrays, the strings into an array. Used by
// heap-summary.mjs.
import { openSync, readSync, closeSync } from 'node:fs';

export function readSnapshot(file) {
  const fd = openSync(file, 'r');
  const CH = 1 << 24;
  const buf = Buffer.alloc(CH);
  let len = readSync(fd, buf, 0, CH, 0);
  let filePos = len;
  const headText = buf.toString('latin1', 0, Math.min(len, 1 << 20));
  const ni = headText.indexOf('"nodes":[');
  const meta = JSON.parse(headText.slice(0, headText.lastIndexOf(',', ni)) + '}').snapshot;
  const nf = meta.meta.node_fields.length, ef = meta.meta.edge_fields.length;
  const nodes = new Uint32Array(meta.node_count * nf);
  const edges = new Uint32Array(meta.edge_count * ef);
  let pos = ni + 9;
  // byte reader
  const next = () => {
    if (pos >= len) {
      len = readSync(fd, buf, 0, CH, filePos); filePos += len; pos = 0;
      if (len === 0) return -1;
    }
    return buf[pos++];
  };
  const readNumbers = (arr) => {
    let i = 0, cur = 0, inNum = false;
    for (;;) {
      const c = next();
      if (c >= 48 && c <= 57) { cur = cur * 10 + (c - 48); inNum = true; }
      else {
        if (inNum) { arr[i++] = cur; cur = 0; inNum = false; }
        if (c === 93) return i; // ]
        if (c === -1) throw new Error('eof');
      }
    }
  };
  const seek = (token) => {
    const t = Buffer.from(token); let m = 0;
    for (;;) { const c = next(); if (c === -1) throw new Error('no ' + token); if (c === t[m]) { m++; if (m === t.length) return; } else m = c === t[0] ? 1 : 0; }
  };
  const n1 = readNumbers(nodes);
  seek('"edges":[');
  const e1 = readNumbers(edges);
  seek('"strings":[');
  const strings = [];
  for (;;) {
    let c = next();
    while (c !== 34 && c !== 93) c = next();
    if (c === 93) break;
    const bytes = [];
    let chunk = [];
    for (;;) {
      c = next();
      if (c === 92) { chunk.push(c, next()); continue; }
      if (c === 34) break;
      chunk.push(c);
      if (chunk.length > 65536) { bytes.push(Buffer.from(chunk)); chunk = []; }
    }
    bytes.push(Buffer.from(chunk));
    const raw = Buffer.concat(bytes).toString('utf8');
    strings.push(raw.includes('\\') ? JSON.parse('"' + raw + '"') : raw);
  }
  closeSync(fd);
  if (n1 !== nodes.length || e1 !== edges.length) throw new Error(`counts ${n1}/${nodes.length} ${e1}/${edges.length}`);
  return { meta: meta.meta, nodes, edges, strings, nf, ef };
}
