// DOM building without HTML strings: every text goes in through textContent
// and every attribute through setAttribute, so ids and names that frameworks
// choose are shown as text, never parsed as markup.

/** h('td', { class: 'num' }, 'text', childNode, ...): an element; strings and numbers become text nodes; null/false are skipped. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** The same for SVG elements. */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'href' && !safeHref(String(value))) continue;
    el.setAttribute(name, String(value));
  }
}

function append(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Links go to this master's pages or to an agent over http(s); never javascript: or data:. */
function safeHref(href) {
  return href.startsWith('/') || href.startsWith('http://') || href.startsWith('https://') || href.startsWith('?');
}

/** 0.5 -> "0.5", 1024 -> "1024", 0.30000000000000004 -> "0.3". */
export function num(value) {
  return String(Math.round((value ?? 0) * 100) / 100);
}

export function percent(fraction) {
  return `${(Math.round((fraction ?? 0) * 1000) / 10).toFixed(1)}%`;
}

/** Seconds as "3d 4h", "2h 5m", "4m 10s", "12s". */
export function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400), hr = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${hr}h`;
  if (hr > 0) return `${hr}h ${m}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

/** A horizontal bar: used (solid) and offered (hatched) out of total. */
export function bar(used, offered, total) {
  const part = (v) => `${total > 0 ? Math.min(100, (v / total) * 100) : 0}%`;
  const usedEl = h('span', { class: 'bar-used' });
  const offeredEl = h('span', { class: 'bar-offered' });
  usedEl.style.width = part(used);
  offeredEl.style.width = part(offered);
  return h('span', { class: 'bar' }, usedEl, offeredEl);
}
