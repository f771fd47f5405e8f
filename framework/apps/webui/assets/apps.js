// The apps page: reads the REST API of the `mesos-ts apps` that served it
// (GET /v2/info, /v2/apps?embed=apps.tasks, /v2/deployments, /v2/queue and
// /v2/autoscale, which answers 404 until the autoscaler exists: the section
// stays hidden), and redraws. It follows /v2/events (server-sent events) and
// refetches after events, at most once a second; every 5 s while the stream
// is down and every 30 s anyway. An API call answered with a redirect means
// this instance no longer leads: the page reloads /ui/, which the instance
// redirects to the new leader. Text goes into the DOM as text (dom.js).
import { h, num, duration } from './dom.js';
import { appStatus, appCounts, instanceHealth, instanceVersion, deploymentSteps, deploymentProgress, waitingReason, ageOf } from './apps-view.js';
import { autoscaleChart } from './autoscale-chart.js';

const $ = (id) => document.getElementById(id);
const EVENT_TYPES = [
  'api_post_event', 'status_update_event', 'instance_changed_event', 'health_status_changed_event', 'deployment_info',
  'deployment_step_success', 'deployment_success', 'deployment_failed', 'app_terminated_event', 'failed_health_check_event',
  'autoscale_decision_event',
];
const BACKOFF = { first: 500, max: 10_000 };
const REFRESH_MIN_MS = 1000;
let data = { info: null, apps: [], deployments: [], queue: [], autoscale: null };
let streamOpen = false, lastError = null, movedAway = false;

class Moved extends Error {}

async function getJson(url, optional = false) {
  const res = await fetch(url, { cache: 'no-store', redirect: 'manual', headers: { Accept: 'application/json' } });
  if (res.type === 'opaqueredirect') throw new Moved('this instance no longer leads');
  if (optional && res.status === 404) return null;
  if (!res.ok) {
    const message = await res.json().then((b) => b.message, () => '');
    throw new Error(`${url}: ${res.status}${message ? ` ${message}` : ''}`);
  }
  return res.json();
}

// ---- connection ----------------------------------------------------------

function showConnection() {
  if (movedAway) return; // moved() said so, and the page is reloading.
  const [state, text] = lastError ? ['retrying', lastError] : streamOpen ? ['live', 'live'] : ['retrying', 'event stream down; polling every 5 s'];
  document.body.dataset.conn = state;
  $('conn').textContent = text;
  $('conn').className = `conn conn-${state}`;
}

let streamDelay = BACKOFF.first;
function follow() {
  const events = new EventSource('/v2/events');
  events.onopen = () => {
    streamOpen = true;
    streamDelay = BACKOFF.first;
    showConnection();
    refreshSoon();
  };
  for (const type of EVENT_TYPES) events.addEventListener(type, refreshSoon);
  events.onerror = () => {
    events.close();
    streamOpen = false;
    showConnection();
    setTimeout(follow, streamDelay);
    streamDelay = Math.min(streamDelay * 2, BACKOFF.max);
    refreshSoon(); // Finds out whether this instance still leads.
  };
}

function moved() {
  if (movedAway) return;
  movedAway = true;
  document.body.dataset.conn = 'standby';
  $('conn').textContent = 'standby';
  $('conn').className = 'conn conn-standby';
  const notice = $('notice');
  notice.hidden = false;
  notice.replaceChildren('This instance no longer leads the apps framework; reloading /ui/, which goes to the leader…');
  setTimeout(() => location.reload(), 2000);
}

// ---- fetching, throttled -------------------------------------------------

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
    const [info, apps, deployments, queue, autoscale] = await Promise.all([
      getJson('/v2/info'), getJson('/v2/apps?embed=apps.tasks'), getJson('/v2/deployments'), getJson('/v2/queue'), getJson('/v2/autoscale', true),
    ]);
    data = { info, apps: apps.apps ?? [], deployments, queue: queue.queue ?? [], autoscale };
    lastError = null;
    draw();
  } catch (err) {
    if (err instanceof Moved) return moved();
    lastError = `cannot read the API (${err.message}); retrying`;
  } finally {
    refreshing = false;
    showConnection();
  }
  if (refreshWanted) refreshSoon();
}

// ---- drawing -------------------------------------------------------------

function draw() {
  const appsById = new Map(data.apps.map((a) => [a.id, a]));
  const queueByApp = new Map(data.queue.map((e) => [e.app?.id, e]));
  drawHeader();
  drawApps();
  drawDeployments(appsById, queueByApp);
  drawInstances(appsById);
  drawQueue();
  drawAutoscale();
}

function drawHeader() {
  const { info } = data;
  $('leader').replaceChildren(
    h('span', {}, 'leader ', h('strong', { id: 'leader-address' }, info.leader ?? '?')),
    h('span', { class: 'muted' }, ` · framework ${info.frameworkId ?? 'not subscribed'}`),
    h('span', { class: 'muted' }, ` · version ${info.version}`),
  );
}

function drawApps() {
  const rows = data.apps.map((app) => {
    const c = appCounts(app);
    const status = appStatus(app);
    return h('tr', { 'data-app-id': app.id },
      h('td', { class: 'id app' }, app.id),
      h('td', { class: 'counts' },
        h('span', { class: 'running' }, String(c.running)), ' / ',
        h('span', { class: 'healthy', title: c.healthy === null ? 'no health check' : null }, c.healthy === null ? '—' : String(c.healthy)), ' / ',
        h('span', { class: 'wanted' }, String(c.wanted))),
      h('td', { class: 'num' }, num(app.cpus)),
      h('td', { class: 'num' }, num(app.mem)),
      h('td', { class: 'labels' }, Object.entries(app.labels ?? {}).map(([k, v]) => h('span', { class: 'attr' }, `${k}: ${v}`))),
      h('td', {}, h('span', { class: `badge status ${status}` }, status)),
    );
  });
  $('apps-count').textContent = String(rows.length);
  $('apps').replaceChildren(...(rows.length ? rows : [emptyRow(6, 'no apps: deploy one with mesos-ts app deploy FILE.json')]));
}

function drawDeployments(appsById, queueByApp) {
  const rows = data.deployments.map((d) => {
    const appId = d.affectedApps?.[0] ?? '';
    const progress = deploymentProgress(d, appsById);
    const why = progress.wanted > progress.done ? waitingReason(queueByApp.get(appId)) : null;
    return h('tr', { 'data-deployment-id': d.id, 'data-app-id': appId },
      h('td', { class: 'id app' }, appId),
      h('td', { class: 'id muted' }, d.id),
      h('td', {}, h('ol', { class: 'steps' }, deploymentSteps(d).map((s) => h('li', { class: s.state }, s.actions))),
        h('span', { class: 'muted small' }, `step ${d.currentStep} of ${d.totalSteps}`)),
      h('td', { class: 'progress' }, progressBar(progress.done, progress.wanted), ' ', progress.text),
      h('td', { class: 'reason' }, why ? [why.reason, h('span', { class: 'detail' }, why.detail)] : progress.wanted > progress.done ? 'waiting for instances to start' : 'finishing'),
    );
  });
  $('deployments-count').textContent = String(rows.length);
  $('deployments').replaceChildren(...(rows.length ? rows : [emptyRow(5, 'no deployment running')]));
}

function progressBar(done, wanted) {
  const fill = h('span', { class: 'bar-used' });
  fill.style.width = `${wanted > 0 ? Math.min(100, (done / wanted) * 100) : 100}%`;
  return h('span', { class: 'bar' }, fill);
}

function drawInstances(appsById) {
  const now = Date.now();
  const tasks = data.apps.flatMap((app) => (app.tasks ?? []).map((t) => ({ t, app })));
  const rows = tasks.map(({ t, app }) => {
    const health = instanceHealth(t, appsById.get(t.appId) ?? app);
    const age = ageOf(t.startedAt ?? t.stagedAt, now);
    return h('tr', { 'data-task-id': t.id, 'data-app-id': t.appId },
      h('td', { class: 'id app' }, t.appId),
      h('td', { class: 'id' }, t.id),
      h('td', { class: 'host' }, t.host),
      h('td', { class: 'ports' }, (t.ports ?? []).join(', ') || '—'),
      h('td', {}, h('span', { class: `state state-${String(t.state).replace(/^TASK_/, '').toLowerCase()}` }, String(t.state).replace(/^TASK_/, ''))),
      h('td', { class: 'health' }, h('span', { class: `badge ${health.replace(' ', '-')}` }, health)),
      h('td', { class: 'version muted' }, instanceVersion(t, app)),
      h('td', { class: 'started', title: t.startedAt ?? `staged ${t.stagedAt}` }, age === null ? '—' : `${t.startedAt ? '' : 'staged '}${duration(age)} ago`),
    );
  });
  $('instances-count').textContent = String(rows.length);
  $('instances').replaceChildren(...(rows.length ? rows : [emptyRow(8, 'no instances')]));
}

function drawQueue() {
  const rows = data.queue.map((e) => {
    const why = waitingReason(e);
    return h('tr', { 'data-queue-app': e.app?.id ?? '' },
      h('td', { class: 'id' }, e.app?.id ?? ''),
      h('td', { class: 'num' }, String(e.count)),
      h('td', {}, e.delay?.timeLeftSeconds > 0 ? `${e.delay.timeLeftSeconds}s` : '—'),
      h('td', { class: 'reason' }, why.reason, h('span', { class: 'detail' }, why.detail)),
    );
  });
  $('queue-count').textContent = rows.length ? String(rows.length) : '';
  $('queue').replaceChildren(...(rows.length ? rows : [emptyRow(4, 'no launch waiting')]));
}

function drawAutoscale() {
  const apps = data.autoscale?.apps;
  $('autoscale-panel').hidden = !Array.isArray(apps);
  if (!Array.isArray(apps)) return;
  const now = Date.now();
  $('autoscale').replaceChildren(...(apps.length ? apps.map((a) => {
    const last = a.decisions?.at(-1);
    return h('div', { class: 'autoscale-app', 'data-app-id': a.appId },
      h('h3', {}, a.appId),
      h('p', {}, `${a.metric}: ${a.lastValue ?? '—'} (target ${a.target}); ${a.instances} instances (${a.minInstances}..${a.maxInstances})`),
      svgNode(autoscaleChart(a, now)),
      last ? h('p', { class: 'last-decision' }, `last: ${last.from} → ${last.to}${last.reason ? `, ${last.reason}` : ''}`) : null,
    );
  }) : [h('p', { class: 'muted' }, 'no app is autoscaled')]));
}

/** The chart's SVG text as a node, parsed as XML (never as HTML); a chart that does not parse is left out. */
function svgNode(text) {
  const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
  if (doc.getElementsByTagName('parsererror').length > 0) return h('p', { class: 'muted' }, 'the chart could not be drawn');
  return document.importNode(doc.documentElement, true);
}

function emptyRow(columns, text) {
  return h('tr', { class: 'empty' }, h('td', { colspan: columns }, text));
}

setInterval(() => (!streamOpen || Date.now() - lastRefresh > 30_000) && refreshSoon(), 5000);
follow();
refreshSoon();
