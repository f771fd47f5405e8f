import { describe, expect, it } from 'vitest';
import type { ServerResponse } from 'node:http';
import { isJsonpCallback, writeJson } from '../../common/jsonp.js';

describe('JSONP callback names', () => {
  it.each(['show', 'angular.callbacks._0', '$cb', '_x.y$.z1'])('takes the JavaScript name %s', (name) => {
    expect(isJsonpCallback(name)).toBe(true);
  });

  it.each(['', 'alert(1)//', 'a.', '.a', 'a..b', '1abc', 'a b', 'a;b', 'x'.repeat(257)])('refuses %j', (name) => {
    expect(isJsonpCallback(name)).toBe(false);
  });
});

describe('writeJson', () => {
  // A real ServerResponse on a real socket pair would test node:http; what is ours is the body and its length.
  function written(json: string | Buffer, callback: string | null) {
    const out: { status?: number; headers?: Record<string, unknown>; body?: string } = {};
    const res = {
      writeHead(status: number, headers: Record<string, unknown>) {
        Object.assign(out, { status, headers });
        return { end: (body: string | Buffer) => void (out.body = Buffer.from(body).toString('utf8')) };
      },
    };
    writeJson(res as unknown as ServerResponse, json, callback);
    return out;
  }

  it.each([['text', '{"a":"é"}'], ['bytes', Buffer.from('{"a":"é"}')]] as const)('writes JSON given as %s, its length in bytes', (_kind, json) => {
    expect(written(json, null)).toEqual({ status: 200, headers: { 'Content-Type': 'application/json', 'Content-Length': 10 }, body: '{"a":"é"}' });
  });

  it.each([['text', '{"a":"é"}'], ['bytes', Buffer.from('{"a":"é"}')]] as const)('wraps JSON given as %s for a callback', (_kind, json) => {
    expect(written(json, 'cb')).toEqual({ status: 200, headers: { 'Content-Type': 'text/javascript', 'Content-Length': 15 }, body: 'cb({"a":"é"});' });
  });
});
