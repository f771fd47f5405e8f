// The sandbox log viewer: /ui/log.html?agent=A&framework=F&task=T&file=stdout.
// Finds the task's sandbox from the agent's /state and follows the file over
// the agent's /files/read (both through this master, which proxies them),
// appending the JSON `data` field as text.
import { h } from './dom.js';

const params = new URLSearchParams(location.search);
const agent = params.get('agent') ?? '';
const framework = params.get('framework') ?? '';
const task = params.get('task') ?? '';
const file = params.get('file') === 'stderr' ? 'stderr' : 'stdout';
const $ = (id) => document.getElementById(id);
const agentUrl = (what) => `/ui/agent/${encodeURIComponent(agent)}/${what}`;
const POLL_MS = 1000;

document.title = `${task} ${file} · mesos-ts`;
$('title').replaceChildren(h('strong', {}, task), ` ${file}`);
$('files').replaceChildren(...['stdout', 'stderr'].map((f) =>
  h('a', { href: `?${new URLSearchParams({ agent, framework, task, file: f })}`, class: f === file ? 'current' : '' }, f)));

async function follow() {
  let path;
  try {
    const state = await getJson(agentUrl('state'));
    const live = (state.tasks ?? []).find((t) => t.id === task && t.framework_id === framework);
    path = `${live?.sandbox ?? `${state.work_dir}/sandboxes/${framework}/${task}`}/${file}`;
  } catch (err) {
    $('meta').textContent = `cannot find the task's sandbox: ${err.message}`;
    return;
  }
  let offset = 0;
  const bytes = new TextEncoder();
  for (;;) {
    try {
      const chunk = await getJson(`${agentUrl('files/read')}?${new URLSearchParams({ path, offset: String(offset) })}`);
      if (chunk.data) {
        $('log').append(chunk.data); // A text node: the output is shown, never parsed.
        offset += bytes.encode(chunk.data).length;
      }
      $('meta').replaceChildren(h('span', { class: 'path' }, path), ` · ${offset} bytes · following`);
      if (chunk.data) continue; // More may be waiting.
    } catch (err) {
      $('meta').replaceChildren(h('span', { class: 'path' }, path), ` · ${err.message}; retrying`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function getJson(url) {
  const res = await fetch(url, { cache: 'no-store' });
  if (!res.ok) throw new Error(`${res.status} ${(await res.text()).trim()}`);
  return res.json();
}

void follow();
