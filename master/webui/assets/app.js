// The page: asks this master whether it leads (/ui/leader.json), subscribes
// to its operator event stream (POST /api/v1 SUBSCRIBE, RecordIO of JSON
// events), applies events to the model, refetches /master/state at most once a
// second after events (and every few seconds anyway, for offers and uptime),
// and redraws. A stream that ends or goes quiet is reopened with backoff; a
// master that does not lead says so and sends the reader to the leader's UI.
import { h, num, percent, duration, bar } from './dom.js';
import { recordIo } from './record-io.js';
import { ClusterModel, KINDS, TERMINAL, agentStatus } from './model.js';
import { AllocationChart } from './chart.js';

const model = new ClusterModel();
const chart = new AllocationChart();
const workDirs = new Map(); // agent id -> work_dir (from the agent's /state), or null while asked
const $ = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const BACKOFF = { first: 500, max: 10_000 };
/** Seconds a standby's page waits before opening the leader's UI. */
const FOLLOW_AFTER = 5;

// ---- connection ----------------------------------------------------------

function setConnection(state, text) {
  document.body.dataset.conn = state;
  $('conn').textContent = text;
  $('conn').className = `conn conn-${state}`;
}

async function run() {
  let delay = BACKOFF.first;
  const retry = async (why) => {
    setConnection('retrying', `${why}; retrying in ${Math.round(delay / 100) / 10}s`);
    await sleep(delay);
    delay = Math.min(delay * 2, BACKOFF.max);
  };
  for (;;) {
    let leader;
    try {
      leader = await getJson('/ui/leader.json');
    } catch (err) {
      await retry(`cannot reach this master (${err.message})`);
      continue;
    }
    if (!leader.leading) {
      showStandby(leader);
      await sleep(delay);
      delay = Math.min(delay * 2, BACKOFF.max);
      continue;
    }
    hideStandby();
    try {
      await subscribe(() => (delay = BACKOFF.first));
      await retry('the event stream ended');
    } catch (err) {
      await retry(`event stream: ${err.message}`);
    }
  }
}

/** One SUBSCRIBE stream, until it ends or stays silent past three heartbeats. */
async function subscribe(onEvent) {
  setConnection('connecting', 'subscribing…');
  const abort = new AbortController();
  // A standby answers 307 to another origin, which this page may not read: do not follow it, ask leader.json again.
  const res = await fetch('/api/v1', {
    method: 'POST', redirect: 'manual', cache: 'no-store', signal: abort.signal,
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ type: 'SUBSCRIBE' }),
  });
  if (res.type === 'opaqueredirect') throw new Error('this master no longer leads');
  if (!res.ok || !res.body) throw new Error(`${res.status} ${(await res.text()).trim()}`);
  let watchdog = null;
  const arm = () => {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => abort.abort(), model.heartbeatSeconds * 3000);
  };
  arm();
  try {
    for await (const event of recordIo(res.body, abort.signal)) {
      arm();
      onEvent();
      if (event.type === 'SUBSCRIBED') setConnection('live', 'live');
      if (model.apply(event)) refreshSoon();
      redraw();
    }
  } finally {
    clearTimeout(watchdog);
  }
}

let countdown = null;
function showStandby(status) {
  setConnection('standby', 'standby');
  const banner = $('standby');
  banner.hidden = false;
  if (!status.leader) {
    banner.replaceChildren(`This master (${status.self}) is not the leader, and no leading master is known yet. Waiting for one…`);
    return;
  }
  if (countdown !== null) return;
  const target = `${location.protocol}//${status.leader}/`;
  let left = FOLLOW_AFTER;
  const seconds = h('span', { id: 'standby-seconds' }, String(left));
  const stay = h('button', { type: 'button', id: 'standby-stay' }, 'stay here');
  banner.replaceChildren(
    `This master (${status.self}) is a standby. The leading master is `,
    h('a', { href: target, id: 'leader-link' }, status.leader), '; opening its UI in ', seconds, ' s. ', stay,
  );
  countdown = setInterval(() => {
    left -= 1;
    seconds.textContent = String(left);
    if (left <= 0) {
      clearInterval(countdown);
      location.href = target;
    }
  }, 1000);
  stay.addEventListener('click', () => {
    clearInterval(countdown); // Left set: this page stays, and keeps asking whether this master leads.
    stay.replaceWith(h('span', {}, '(staying here)'));
  });
}

function hideStandby() {
  if (countdown !== null) clearInterval(countdown);
  countdown = null;
  $('standby').hidden = true;
}

// ---- /master/state, throttled ---------------------------------------------------

const REFRESH_MIN_MS = 1000;
let lastRefresh = 0, refreshing = false, refreshWanted = false;

function refreshSoon() {
  refreshWanted = true;
  if (refreshing) return;
  refreshing = true;
  setTimeout(refresh, Math.max(0, lastRefresh + REFRESH_MIN_MS - Date.now()));
}

async function refresh() {
  refreshWanted = false;
  lastRefresh = Date.now();
  try {
    const res = await fetch('/master/state', { redirect: 'manual', cache: 'no-store' });
    if (res.ok) model.applyState(await res.json());
    // What operators set: the maintenance schedule and its status, weights and quota (Mesos's v0 endpoints).
    const [schedule, status, weights, quota] = await Promise.all(
      ['/master/maintenance/schedule', '/master/maintenance/status', '/master/weights', '/master/quota'].map((url) => getJson(url)),
    );
    model.applyMaintenance(schedule, status);
    model.applyRoleSettings(weights, quota);
  } catch {
    // The stream's own retry says what is wrong.
  }
  refreshing = false;
  redraw();
  if (refreshWanted) refreshSoon();
}

async function getJson(url) {
  const res = await fetch(url, { cache: 'no-store', redirect: 'manual' });
  if (!res.ok) throw new Error(`${url}: ${res.status || 'redirected'}`);
  return res.json();
}

/** The agent's work_dir, asked of it (through this master) once; sandbox links appear when it is known. */
function workDirOf(agentId) {
  if (!workDirs.has(agentId)) {
    workDirs.set(agentId, null);
    getJson(`/ui/agent/${encodeURIComponent(agentId)}/state`)
      .then((state) => {
        workDirs.set(agentId, state.work_dir);
        redraw();
      })
      .catch(() => setTimeout(() => workDirs.delete(agentId), 5000));
  }
  return workDirs.get(agentId);
}

// ---- drawing -------------------------------------------------------------

let drawPending = false;
function redraw() {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => {
    drawPending = false;
    draw();
  });
}

function draw() {
  drawLeader();
  drawResources();
  drawAgents();
  drawMaintenance();
  drawRoles();
  drawFrameworks();
  drawTasks();
}

function drawLeader() {
  const l = model.leader;
  if (!l) return;
  $('leader').replaceChildren(
    h('span', {}, 'leader ', h('strong', { id: 'leader-address' }, l.address)),
    h('span', { class: 'muted' }, ` id ${l.id}`),
    h('span', { class: 'muted' }, ` · version ${l.version}`),
    h('span', { class: 'muted', id: 'uptime' }, ` · up ${duration(Date.now() / 1000 - l.startTime)}`),
  );
}

function drawResources() {
  const { total, used, offered } = model.totals();
  const unit = { cpus: '', mem: ' MB', disk: ' MB' };
  $('resources').replaceChildren(...KINDS.map((k) => h('div', { class: 'resource', 'data-kind': k },
    h('span', { class: 'resource-name' }, k),
    bar(used[k], offered[k], total[k]),
    h('span', { class: 'resource-text' },
      `${num(used[k])} used, ${num(offered[k])} offered of ${num(total[k])}${unit[k]}`,
      total[k] > 0 ? ` (${percent(used[k] / total[k])} used)` : ''),
  )));
}

function resourceCell(used, total) {
  return h('td', { class: 'resources' }, KINDS.map((k) => h('div', {}, h('span', { class: 'kind' }, k), ' ', total ? `${num(used[k])} / ${num(total[k])}` : num(used[k]))));
}

function drawAgents() {
  const rows = [...model.agents.values()].map((a) => h('tr', { 'data-agent-id': a.id },
    h('td', { class: 'id' }, a.id),
    h('td', {}, `${a.hostname}:${a.port}`),
    resourceCell(a.used, a.total),
    h('td', {}, Object.entries(a.attributes).map(([name, value]) => h('span', { class: 'attr' }, `${name}: ${value}`))),
    h('td', {}, statusBadge(agentStatus(a, model.machines))),
  ));
  $('agents-count').textContent = String(rows.length);
  $('agents').replaceChildren(...(rows.length ? rows : [emptyRow(5, 'no agents registered')]));
}

const BADGE = { active: 'active', disconnected: 'inactive', deactivated: 'inactive', draining: 'draining', drained: 'inactive', maintenance: 'draining' };
const statusBadge = (status) => h('span', { class: `badge ${BADGE[status] ?? 'inactive'}` }, status);

function drawMaintenance() {
  const machines = [...model.machines.values()];
  const rows = machines.map((m) => h('tr', { 'data-machine': m.name },
    h('td', {}, m.name),
    h('td', {}, h('span', { class: `badge ${m.mode === 'DOWN' ? 'down' : 'draining'}` }, m.mode)),
    h('td', {}, new Date(m.start * 1000).toISOString().replace('.000Z', 'Z'), m.duration === null ? ', indefinitely' : ` for ${duration(m.duration)}`),
    h('td', {}, m.answers.length ? m.answers.map((a) => h('span', { class: 'attr' }, `${model.frameworks.get(a.framework)?.name ?? a.framework}: ${a.status}`)) : h('span', { class: 'muted' }, '—')),
  ));
  $('maintenance-count').textContent = machines.length ? String(machines.length) : '';
  $('maintenance').replaceChildren(...(rows.length ? rows : [emptyRow(4, 'no maintenance scheduled')]));
}

function drawRoles() {
  const rows = model.roleSettings.map((r) => h('tr', { 'data-role': r.role },
    h('td', {}, r.role), h('td', { class: 'num' }, String(r.weight)), h('td', {}, r.guarantee || '—'), h('td', {}, r.limit || '—'),
  ));
  $('roles').replaceChildren(...(rows.length ? rows : [emptyRow(4, 'every role weighs 1; no quota')]));
}

function drawFrameworks() {
  const rows = model.frameworkRows().map((f) => h('tr', { 'data-framework-id': f.id },
    h('td', { class: 'name' }, f.name, webuiLink(f.webuiUrl)),
    h('td', { class: 'id' }, f.id),
    h('td', {}, f.roles.join(', ')),
    h('td', { class: 'num tasks' }, String(f.tasks)),
    resourceCell(f.used, null),
    h('td', { class: 'share' }, bar(f.dominant.share, 0, 1), ` ${percent(f.dominant.share)}`, f.dominant.kind ? h('span', { class: 'muted' }, ` ${f.dominant.kind}`) : ''),
    h('td', {}, h('span', { class: `badge ${f.active ? 'active' : 'inactive'}` }, f.active ? 'active' : 'inactive')),
  ));
  $('frameworks-count').textContent = String(rows.length);
  $('frameworks').replaceChildren(...(rows.length ? rows : [emptyRow(7, 'no frameworks')]));
}

/** A framework's own UI (FrameworkInfo.webui_url), as Mesos's UI links it; only http(s) addresses (dom.js refuses others). */
function webuiLink(url) {
  if (!/^https?:\/\//.test(url)) return null;
  return [' ', h('a', { href: url, class: 'webui-link', target: '_blank', rel: 'noopener' }, 'web UI')];
}

function drawTasks() {
  const tasks = model.taskRows();
  const rows = tasks.map((t) => {
    const agent = model.agents.get(t.agentId);
    const framework = model.frameworks.get(t.frameworkId);
    return h('tr', { 'data-task-id': t.id, 'data-framework-id': t.frameworkId, class: TERMINAL.has(t.state) ? 'ended' : '' },
      h('td', { class: 'id' }, t.id),
      h('td', { class: 'name' }, t.name),
      h('td', {}, framework?.name ?? t.frameworkId),
      h('td', {}, agent?.hostname ?? t.agentId),
      h('td', {}, h('span', { class: `state state-${t.state.replace(/^TASK_/, '').toLowerCase()}`, title: t.message }, t.state.replace(/^TASK_/, ''))),
      h('td', { class: 'num' }, num(t.resources.cpus)),
      h('td', { class: 'num' }, num(t.resources.mem)),
      h('td', { class: 'logs' }, logLinks(t, agent)),
    );
  });
  $('tasks-count').textContent = `${tasks.filter((t) => !TERMINAL.has(t.state)).length} not ended`;
  $('tasks').replaceChildren(...(rows.length ? rows : [emptyRow(8, 'no tasks')]));
}

function logLinks(task, agent) {
  const viewer = (file) => `/ui/log.html?${new URLSearchParams({ agent: task.agentId, framework: task.frameworkId, task: task.id, file })}`;
  const links = [
    h('a', { href: viewer('stdout'), class: 'log-stdout', target: '_blank', rel: 'noopener' }, 'stdout'), ' ',
    h('a', { href: viewer('stderr'), class: 'log-stderr', target: '_blank', rel: 'noopener' }, 'stderr'),
  ];
  const workDir = agent ? workDirOf(task.agentId) : null;
  if (agent && workDir) {
    const path = `${workDir}/sandboxes/${task.frameworkId}/${task.id}/stdout`;
    links.push(' ', h('a', { href: `${location.protocol}//${agent.hostname}:${agent.port}/files/read?${new URLSearchParams({ path })}`, class: 'log-raw muted', target: '_blank', rel: 'noopener', title: 'the agent\'s /files/read (JSON)' }, 'raw'));
  }
  return links;
}

function emptyRow(columns, text) {
  return h('tr', { class: 'empty' }, h('td', { colspan: columns }, text));
}

// ---- the allocation chart: one sample a second ---------------------------

setInterval(() => {
  if (document.body.dataset.conn !== 'live') return;
  chart.sample(Date.now(), model.totals(), model.frameworkRows());
  $('chart').replaceChildren(...chart.render());
  const l = model.leader;
  if (l && $('uptime')) $('uptime').textContent = ` · up ${duration(Date.now() / 1000 - l.startTime)}`;
}, 1000);
// Offers and the leader's uptime change without events.
setInterval(() => document.body.dataset.conn === 'live' && refreshSoon(), 5000);

void run();
