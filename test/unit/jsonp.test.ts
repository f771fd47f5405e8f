import { describe, expect, it } from 'vitest';
import { isJsonpCallback } from '../../common/jsonp.js';

describe('JSONP callback names', () => {
  it.each(['show', 'angular.callbacks._0', '$cb', '_x.y$.z1'])('takes the JavaScript name %s', (name) => {
    expect(isJsonpCallback(name)).toBe(true);
  });

  it.each(['', 'alert(1)//', 'a.', '.a', 'a..b', '1abc', 'a b', 'a;b', 'x'.repeat(257)])('refuses %j', (name) => {
    expect(isJsonpCallback(name)).toBe(false);
  });
});
