/* Petal console: plain JavaScript, no build step. Every value from the services is set as text, never as markup. */
'use strict';

const state = { me: null, models: null, modelName: null, fields: null, events: null, modelsStamp: null, dlq: null, training: null };
const PAGES = ['models', 'scoring', 'dlq', 'training'];

// ---- small helpers

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}
function svg(tag, attrs, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}
const $ = (id) => document.getElementById(id);
function chartInto(id, points, options) {
  const el = $(id);
  fill(el, lineChart(points, Object.assign({ width: el.clientWidth || 640 }, options)));
}
function fill(el, ...children) { el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined)); }
function fmt(n, digits = 2) {
  if (n === null || n === undefined || Number.isNaN(n)) return '–';
  if (typeof n !== 'number') return String(n);
  if (Math.abs(n) >= 1000) return n.toLocaleString('en', { maximumFractionDigits: 0 });
  return n.toLocaleString('en', { maximumFractionDigits: digits });
}
const pct = (x) => (x === null || x === undefined ? '–' : (100 * x).toFixed(1) + '%');
function when(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString('en-GB', { dateStyle: 'short', timeStyle: 'medium' });
}
function duration(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  const s = Math.round(seconds);
  if (s < 60) return s + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
  return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
}
function card(k, v, s) {
  return h('div', { class: 'card' }, h('div', { class: 'k' }, k), h('div', { class: String(v).length > 14 ? 'v long' : 'v' }, v), s ? h('div', { class: 's' }, s) : null);
}
// Role gating: state.me.can says which actions the signed-in roles may do, state.me.needs which roles each needs,
// both from the console's endpoints' own role checks; an action the API would refuse is never offered.
const allowed = (action) => !!(state.me && state.me.can && state.me.can[action]);
const needs = (action) => 'needs the ' + ((state.me && state.me.needs && state.me.needs[action]) || ['admin']).join(' or ') + ' role';
function notice(text) { const n = $('notice'); n.textContent = text || ''; n.hidden = !text; }

async function api(path, options = {}) {
  const init = { method: options.method || 'GET', credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (init.method !== 'GET') init.headers['X-Petal-Console'] = '1';
  if (options.body !== undefined) { init.headers['Content-Type'] = 'application/json'; init.body = JSON.stringify(options.body); }
  if (options.bearer) init.headers.Authorization = 'Bearer ' + options.bearer;
  const response = await fetch(path, init);
  let body = null;
  const text = await response.text();
  try { body = text ? JSON.parse(text) : null; } catch (e) { body = { error: text }; }
  return { status: response.status, ok: response.ok, body };
}

// ---- confirmation dialog: resolves with the extra inputs' values, or null when cancelled

function confirmAction(title, text, extras = [], okLabel = 'Confirm') {
  const dialog = $('confirm');
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  $('confirm-ok').textContent = okLabel;
  fill($('confirm-extra'), extras.map((x) => x.element));
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      if (dialog.returnValue !== 'ok') return resolve(null);
      const values = {};
      for (const x of extras) values[x.name] = x.value();
      resolve(values);
    }, { once: true });
    dialog.returnValue = '';
    dialog.showModal();
    $('confirm-cancel').focus();
  });
}
function textExtra(name, label, value = '') {
  const id = 'confirm-' + name;
  const input = h('input', { type: 'text', id, value });
  return { name, element: h('label', { for: id }, label, input), value: () => input.value };
}
function checkExtra(name, label) {
  const id = 'confirm-' + name;
  const input = h('input', { type: 'checkbox', id });
  return { name, element: h('label', { for: id, class: 'check' }, input, ' ', label), value: () => input.checked };
}

// ---- charts (inline SVG)

function lineChart(points, options = {}) {
  const W = Math.max(320, Math.round(options.width || 640)), H = 180, L = 52, R = 10, T = 10, B = 24;
  const box = svg('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': options.label || 'chart' });
  box.append(svg('title', {}, options.label || 'chart'));
  if (!points.length) { box.append(svg('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle' }, options.empty || 'no data yet')); return box; }
  const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs) === x0 ? x0 + 1 : Math.max(...xs);
  let y0 = options.zero ? 0 : Math.min(...ys), y1 = Math.max(...ys);
  if (y1 === y0) { y1 = y0 + (y0 === 0 ? 1 : Math.abs(y0) * 0.1); }
  if (options.integer) y1 = Math.max(4, Math.ceil(y1 / 4) * 4); // counts: whole ticks
  const X = (x) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const Y = (y) => H - B - ((y - y0) / (y1 - y0)) * (H - T - B);
  for (let i = 0; i <= 4; i++) {
    const v = y0 + ((y1 - y0) * i) / 4;
    box.append(svg('line', { class: 'grid', x1: L, x2: W - R, y1: Y(v), y2: Y(v) }));
    box.append(svg('text', { x: L - 6, y: Y(v) + 4, 'text-anchor': 'end' }, options.yFormat ? options.yFormat(v) : fmt(v, 3)));
  }
  box.append(svg('line', { class: 'axis', x1: L, x2: L, y1: T, y2: H - B }));
  box.append(svg('line', { class: 'axis', x1: L, x2: W - R, y1: H - B, y2: H - B }));
  box.append(svg('text', { x: L, y: H - 6 }, options.xFormat ? options.xFormat(x0) : fmt(x0, 0)));
  box.append(svg('text', { x: W - R, y: H - 6, 'text-anchor': 'end' }, options.xFormat ? options.xFormat(x1) : fmt(x1, 0)));
  if (options.bars) {
    const w = Math.max(1, (W - L - R) / points.length - 1);
    points.forEach((p) => box.append(svg('rect', { class: 'bar0', x: X(p[0]) - w / 2, y: Y(p[1]), width: w, height: H - B - Y(p[1]) },
      svg('title', {}, (options.barTitle ? options.barTitle(p) : fmt(p[1]))))));
  } else {
    box.append(svg('polyline', { class: options.cls || 'line', points: points.map((p) => `${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join(' ') }));
  }
  return box;
}

// ---- sign-in

async function boot() {
  const hash = location.hash;
  if (hash.startsWith('#login=')) {
    const code = hash.slice('#login='.length);
    history.replaceState(null, '', location.pathname + '#/models');
    const r = await api('/api/session', { method: 'POST', body: { code } });
    if (!r.ok) notice((r.body && r.body.error) || 'the login link did not work');
    else return location.reload(); // a new session starts on a fresh page: nothing the one before showed or allowed stays
  }
  const s = await api('/api/session/state');
  if (!s.body || !s.body.signedIn) return showSignIn();
  state.me = s.body;
  signedIn();
}

function showSignIn() {
  $('nav').hidden = true; $('who').hidden = true;
  for (const p of PAGES) $('page-' + p).hidden = true;
  $('page-signin').hidden = false;
  if (state.events) { state.events.close(); state.events = null; }
}

$('signin-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const token = $('signin-token').value.trim();
  $('signin-token').value = '';
  const r = await api('/api/session/token', { method: 'POST', bearer: token });
  if (!r.ok) return notice((r.body && r.body.error) || 'the token was refused');
  notice('');
  location.reload();
});

$('sign-out').addEventListener('click', async () => {
  await api('/api/session', { method: 'DELETE' });
  state.me = null;
  showSignIn();
});

function signedIn() {
  $('page-signin').hidden = true;
  $('nav').hidden = false; $('who').hidden = false;
  const me = state.me;
  const anyAction = Object.keys(me.needs || {}).some(allowed);
  $('user').textContent = `${me.subject} (${me.roles.join(', ')})` + (anyAction ? '' : ' · read-only');
  connect();
  route();
}

// ---- pages

function route() {
  if (!state.me) return;
  const page = (location.hash.match(/^#\/(\w+)/) || [])[1];
  const current = PAGES.includes(page) ? page : 'models';
  for (const p of PAGES) $('page-' + p).hidden = p !== current;
  for (const a of document.querySelectorAll('nav a')) {
    if (a.dataset.page === current) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  document.title = `${document.querySelector('nav a[data-page="' + current + '"]').textContent} · Petal console`;
  if (current === 'models') loadModels();
  if (current === 'dlq') loadDeadLetters();
  if (current === 'training') loadTrainingFields();
  if (current === 'scoring') loadScoring();
}
window.addEventListener('hashchange', () => {
  if (location.hash.startsWith('#login=')) return boot(); // a new login link in a tab already open
  route();
  $('main').focus();
});

// ---- live updates (Server-Sent Events)

function connect() {
  if (state.events) return;
  const live = $('live');
  const events = new EventSource('/api/events');
  state.events = events;
  events.onopen = () => { live.textContent = 'live'; live.className = 'live on'; };
  events.onerror = async () => {
    live.textContent = 'reconnecting…'; live.className = 'live off';
    if (events.readyState === EventSource.CLOSED) {
      state.events = null;
      const s = await api('/api/session/state');
      if (!s.body || !s.body.signedIn) { state.me = null; notice('Your session ended; sign in again.'); showSignIn(); }
      else setTimeout(connect, 2000);
    }
  };
  events.onmessage = (m) => {
    const u = JSON.parse(m.data);
    if (u.signedOut) { events.close(); state.events = null; state.me = null; notice('Your session ended; sign in again.'); return showSignIn(); }
    live.textContent = 'live'; live.className = 'live on';
    renderScoring(u.scoring);
    renderDeadLetterLive(u.dlq);
    renderTraining(u.training);
    if (state.modelsStamp !== null && u.modelsStamp !== state.modelsStamp && !$('page-models').hidden) loadModels();
    state.modelsStamp = u.modelsStamp;
  };
}

// ---- models

async function loadModels() {
  const r = await api('/api/models' + (state.modelName ? '?name=' + encodeURIComponent(state.modelName) : ''));
  if (!r.ok) return notice((r.body && r.body.error) || 'the models could not be read');
  state.models = r.body;
  renderModels();
}

$('model-name').addEventListener('change', (e) => { state.modelName = e.target.value; loadModels(); });

function metric(v, key) { return v && v.metrics ? v.metrics[key] : undefined; }

function renderModels() {
  const m = state.models;
  const select = $('model-name');
  fill(select, (m.names.length ? m.names : [m.name]).map((n) => h('option', { value: n, selected: n === m.name }, n)));
  const lifecycle = m.lifecycle || {};
  const aliases = lifecycle.aliases || {};
  const note = $('models-lifecycle-note');
  note.hidden = lifecycle.available !== false && !lifecycle.problem;
  note.textContent = lifecycle.available === false
    ? 'Aliases, promotion and rollback: not available on this trainer (it has no model lifecycle API yet). Versions, metrics and lineage are read from object storage.'
    : (lifecycle.problem || '');
  const byVersion = Object.fromEntries(m.versions.map((v) => [v.version, v]));
  const newest = m.versions.length ? m.versions[m.versions.length - 1] : null;
  const championVersion = aliases.champion || m.champion;
  const champion = byVersion[championVersion] || null;
  const challenger = byVersion[aliases.challenger] || null;
  fill($('models-cards'),
    card('Serving', m.serving.length ? m.serving.join(', ') : 'nothing loaded', 'version(s) inference replicas report'),
    card('Champion', championVersion || '–', champion ? 'valid accuracy ' + pct(metric(champion, 'validAccuracy')) : (lifecycle.available === false ? 'not available on this trainer' : 'no champion yet')),
    card('Challenger', aliases.challenger || '–', challenger ? 'valid accuracy ' + pct(metric(challenger, 'validAccuracy')) : 'none'),
    card('Versions', String(m.versions.length), newest ? 'newest ' + newest.version : 'none published yet'));

  // Champion against challenger; without aliases, what serves against the newest.
  let left = champion, right = challenger, leftName = 'Champion', rightName = 'Challenger';
  if (!left && !right) {
    // No aliases: what serves against the newest; when they are the same version, the one before against it.
    right = newest;
    left = byVersion[m.serving[0]] || null;
    leftName = 'Serving'; rightName = 'Newest';
    if (left && newest && left.version === newest.version) {
      left = m.versions.length > 1 ? m.versions[m.versions.length - 2] : null;
      leftName = 'Previous'; rightName = 'Newest (serving)';
    }
  }
  const rows = [['Version', (v) => v.version], ['Valid accuracy', (v) => metric(v, 'validAccuracy'), pct, true],
    ['Valid loss', (v) => metric(v, 'validLoss'), (x) => fmt(x, 4), false], ['Train loss', (v) => metric(v, 'trainLoss'), (x) => fmt(x, 4), false],
    ['Network', (v) => `${v.arch} @ ${v.imageSize} px`], ['Epoch', (v) => v.epoch], ['Dataset', (v) => (v.dataset && v.dataset.name) || 'all'],
    ['Labels', (v) => (v.labels || []).join(', ')], ['Created', (v) => when(v.createdAt)]];
  if (!left && !right) fill($('models-compare'), h('p', { class: 'muted' }, 'Nothing to compare yet.'));
  else {
    fill($('models-compare'), h('div', { class: 'table-wrap' }, h('table', { class: 'data compare', id: 'compare-table' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, ''), h('th', { scope: 'col' }, leftName), h('th', { scope: 'col' }, rightName), h('th', { scope: 'col' }, 'Difference'))),
      h('tbody', {}, rows.map(([label, get, format, higherIsBetter]) => {
        const a = left ? get(left) : undefined, b = right ? get(right) : undefined;
        const show = (x) => (x === undefined ? '–' : format ? format(x) : String(x));
        let delta = '', cls = 'delta';
        if (format && typeof a === 'number' && typeof b === 'number') {
          const d = b - a;
          delta = (d >= 0 ? '+' : '') + (format === pct ? (100 * d).toFixed(1) + ' pt' : fmt(d, 4));
          if (higherIsBetter !== undefined && d !== 0) cls += (d > 0) === higherIsBetter ? ' up' : ' down';
        }
        return h('tr', {}, h('th', { scope: 'row' }, label), h('td', {}, show(a)), h('td', {}, show(b)), h('td', { class: cls }, delta));
      })))));
  }

  const canPromote = allowed('promote') && lifecycle.available !== false;
  const rollback = $('rollback');
  rollback.hidden = !allowed('rollback');
  rollback.disabled = lifecycle.available === false;
  rollback.title = lifecycle.available === false ? 'not available on this trainer' : '';
  const tbody = $('models-table').querySelector('tbody');
  fill(tbody, m.versions.slice().reverse().map((v) => {
    const serving = m.serving.includes(v.version);
    const chips = (v.aliases || Object.keys(aliases).filter((a) => aliases[a] === v.version)).map((a) => h('span', { class: 'chip' }, a));
    if (serving) chips.push(h('span', { class: 'chip serving' }, 'serving'));
    const gate = v.gate ? `${v.gate.decision}${v.gate.reason ? ': ' + v.gate.reason : ''}` : '–';
    const offsets = v.dataset && v.dataset.offsets ? Object.entries(v.dataset.offsets).map(([p, r]) => `p${p}: ${r.join('–')}`).join(', ') : '–';
    const lineage = h('details', {}, h('summary', {}, (v.dataset && v.dataset.name) || 'all data'),
      h('div', {}, 'parent: ', v.parentVersion || '–'), h('div', {}, `${(v.dataset && v.dataset.topic) || ''} offsets ${offsets}`),
      h('div', {}, 'recipe: ', v.recipe ? Object.entries(v.recipe).filter(([, x]) => x !== null && typeof x !== 'object').map(([k, x]) => `${k}=${x}`).join(', ') : '–'));
    const promoteButton = allowed('promote') ? h('button', { type: 'button', class: 'small', disabled: !canPromote, title: canPromote ? null : 'not available on this trainer',
      'aria-label': `Promote ${v.version} to champion`, onclick: () => promote(v.version) }, 'Promote…') : null;
    return h('tr', { class: serving ? 'serving' : null, 'data-version': v.version },
      h('th', { scope: 'row' }, v.version), h('td', {}, when(v.createdAt)), h('td', {}, `${v.arch} @ ${v.imageSize} px`), h('td', { class: 'num' }, v.epoch),
      h('td', { class: 'num' }, pct(metric(v, 'validAccuracy'))), h('td', { class: 'num' }, fmt(metric(v, 'validLoss'), 4)),
      h('td', {}, chips), h('td', {}, gate), h('td', {}, lineage), h('td', {}, promoteButton));
  }));
  if (!m.versions.length) fill(tbody, h('tr', {}, h('td', { colspan: 10, class: 'muted' }, m.problem || 'No version published yet: start a run on the Training page.')));
  const history = lifecycle.history || [];
  fill($('models-history'), history.length
    ? h('div', { class: 'table-wrap' }, h('table', { class: 'data' }, h('thead', {}, h('tr', {}, ['When', 'Alias', 'From', 'To', 'Actor', 'Reason'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, history.slice().reverse().map((e) => h('tr', {}, h('td', {}, when(e.at)), h('td', {}, e.alias), h('td', {}, e.from || '–'), h('td', {}, e.to), h('td', {}, e.actor || '–'), h('td', {}, e.reason || ''))))))
    : h('p', { class: 'muted' }, lifecycle.available === false ? 'Not available on this trainer.' : 'No alias has moved yet.'));
}

async function promote(version) {
  if (!allowed('promote')) return;
  const name = state.models.name;
  const values = await confirmAction('Promote ' + version, `Make ${version} the champion of ${name}? Inference then serves it.`,
    [textExtra('reason', 'Reason', 'promoted from the console'), checkExtra('force', 'Force (labels differ from the champion’s)')], 'Promote');
  if (!values) return;
  const r = await api(`/api/models/${encodeURIComponent(name)}/aliases/champion`, { method: 'POST', body: { version, force: values.force, reason: values.reason } });
  notice(r.ok ? '' : (r.body && r.body.error) || 'the promotion failed (HTTP ' + r.status + ')');
  loadModels();
}

$('rollback').addEventListener('click', async () => {
  if (!allowed('rollback')) return;
  const name = state.models.name;
  const values = await confirmAction('Roll back', `Move the champion of ${name} back to the version it held before?`, [], 'Roll back');
  if (!values) return;
  const r = await api(`/api/models/${encodeURIComponent(name)}/rollback`, { method: 'POST', body: { alias: 'champion' } });
  notice(r.ok ? '' : (r.body && r.body.error) || 'the rollback failed (HTTP ' + r.status + ')');
  loadModels();
});

// ---- live scoring

async function loadScoring() {
  const r = await api('/api/scoring');
  if (r.ok) renderScoring(r.body);
}

function renderScoring(s) {
  if (!s) return;
  const lag = s.lag || {};
  fill($('scoring-cards'),
    card('Images/s', fmt(s.imagesPerSecond, 1), 'predictions, last 10 s'),
    card('Latency p50', s.latencyP50Ms === null ? '–' : fmt(s.latencyP50Ms, 1) + ' ms', 'input record to prediction, last minute'),
    card('Latency p99', s.latencyP99Ms === null ? '–' : fmt(s.latencyP99Ms, 1) + ' ms', `${s.latencySamples} predictions`),
    card('Consumer lag', lag.total === undefined ? '–' : fmt(lag.total, 0), `group ${lag.group || '–'}`),
    card('Predictions seen', fmt(s.predictionsSeen, 0), 'since the console started'));
  const series = s.perSecond.map((n, i) => [i - s.perSecond.length + 1, n]);
  chartInto('scoring-chart', series, { label: 'predictions per second over the last two minutes', zero: true, integer: true, xFormat: (x) => (x === 0 ? 'now' : x + ' s'), yFormat: (v) => fmt(v, 0) });
  const byPartition = s.versionByPartition || {};
  fill($('lag-table').querySelector('tbody'), Object.entries(lag.partitions || {}).map(([p, row]) =>
    h('tr', {}, h('th', { scope: 'row' }, p), h('td', { class: 'num' }, fmt(row.end, 0)), h('td', { class: 'num' }, row.committed === null ? '–' : fmt(row.committed, 0)),
      h('td', { class: 'num ' + (row.lag > 0 ? 'warn' : 'good') }, fmt(row.lag, 0)), h('td', {}, byPartition[p] || '–'))));
  fill($('replica-table').querySelector('tbody'), (s.replicas || []).map((r) => h('tr', {},
    h('th', { scope: 'row' }, r.replica), h('td', { class: r.up ? '' : 'bad' }, r.up ? (r.version || 'no model yet') : (r.problem || 'down')),
    h('td', { class: 'num' }, fmt(r.inputsPerSecond, 1)),
    h('td', { class: 'num' }, `${fmt(r.recentBatchSize, 1)} / ${fmt(r.meanBatchSize, 1)}`), h('td', { class: 'num' }, fmt(r.inputs, 0)))));
  fill($('member-table').querySelector('tbody'), (s.members || []).length ? s.members.map((m) => h('tr', {},
    h('th', { scope: 'row' }, m.clientId), h('td', {}, m.host), h('td', {}, m.partitions.join(', '))))
    : [h('tr', {}, h('td', { colspan: 3, class: 'muted' }, 'no member: nothing consumes ' + (lag.group || 'the group')))]);
  const gallery = $('recent');
  const keys = (s.recent || []).map((p) => p.partition + ':' + p.offset).join(',');
  if (gallery.dataset.keys !== keys) {
    gallery.dataset.keys = keys;
    fill(gallery, (s.recent || []).map((p) => h('li', {},
      p.sourceTopic === 'petal.images' ? h('img', { src: `/api/images/${p.partition}/${p.offset}`, alt: `image ${p.id}`, width: 96, height: 96, loading: 'lazy' }) : null,
      h('div', { class: 'label' }, `${p.label} `, h('span', { class: 'muted' }, pct(p.score))),
      h('div', {}, p.id), h('div', { class: 'muted' }, `${p.version} · ${fmt(p.latencyMs, 1)} ms`))));
    if (!(s.recent || []).length) fill(gallery, h('li', { class: 'muted' }, 'No prediction since the console started: send images to petal.images.'));
  }
  $('scoring-note').hidden = !s.problem;
  $('scoring-note').textContent = s.problem || '';
}

// ---- dead letters

async function loadDeadLetters() {
  const r = await api('/api/dlq');
  if (!r.ok) return notice((r.body && r.body.error) || 'the dead letters could not be read');
  state.dlq = r.body;
  renderDeadLetters(r.body);
}

function renderDeadLetterLive(d) {
  if (!d || $('page-dlq').hidden) return;
  if (state.dlq && d.total !== state.dlq.total) loadDeadLetters();
  else renderDeadLetterCounts(d);
}

function renderDeadLetterCounts(d) {
  $('dlq-note').hidden = !d.problem;
  $('dlq-note').textContent = d.problem || '';
  const entries = Object.entries(d.counts || {}).sort((a, b) => b[1] - a[1]);
  fill($('dlq-cards'), card('Dead letters', fmt(d.total, 0), 'on petal.dlq'), entries.map(([c, n]) => card(c, fmt(n, 0), 'error class')));
  const points = (d.perMinute || []).map((m, i) => [i - d.perMinute.length + 1, Object.values(m.counts).reduce((a, b) => a + b, 0), m]);
  chartInto('dlq-chart', points, { label: 'dead letters per minute over the last hour', bars: true, zero: true, integer: true, xFormat: (x) => (x === 0 ? 'now' : x + ' min'),
    yFormat: (v) => fmt(v, 0), barTitle: (p) => `${when(p[2].minute)}: ${Object.entries(p[2].counts).map(([c, n]) => c + ' ' + n).join(', ') || 'none'}` });
}

function renderDeadLetters(d) {
  renderDeadLetterCounts(d);
  const select = $('replay-class');
  const chosen = select.value;
  fill(select, Object.keys(d.counts || {}).map((c) => h('option', { value: c, selected: c === chosen }, c)));
  const replay = d.replay || {};
  $('replay-note').hidden = replay.available !== false;
  $('replay-note').textContent = replay.reason || '';
  $('replay-submit').disabled = !allowed('replay') || replay.available === false || !Object.keys(d.counts || {}).length;
  $('replay-submit').title = !allowed('replay') ? needs('replay') : replay.available === false ? 'not available on this trainer' : '';
  fill($('dlq-table').querySelector('tbody'), (d.samples || []).length ? d.samples.map((s) => h('tr', {},
    h('td', {}, when(s.at)), h('td', {}, h('span', { class: 'chip' }, s.errorClass)), h('td', {}, s.reason),
    h('td', {}, `${s.sourceTopic} ${s.sourcePartition}:${s.sourceOffset}`), h('td', {}, s.key || '–'), h('td', { class: 'num' }, fmt(s.bytes, 0))))
    : [h('tr', {}, h('td', { colspan: 6, class: 'muted' }, d.problem || 'No dead letter: every input was scored.'))]);
}

$('replay-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!allowed('replay')) return;
  const errorClass = $('replay-class').value;
  const sinceValue = $('replay-since').value;
  const dryRun = $('replay-dry').checked;
  const body = { errorClass, dryRun };
  if (sinceValue) body.since = new Date(sinceValue).toISOString();
  const values = await confirmAction(dryRun ? 'Count dead letters' : 'Replay dead letters',
    `${dryRun ? 'Count' : 'Send back to their source topics'} the dead letters of class ${errorClass}${sinceValue ? ' since ' + sinceValue : ''}?`, [], dryRun ? 'Count' : 'Replay');
  if (!values) return;
  const r = await api('/api/dlq/replay', { method: 'POST', body });
  $('replay-result').textContent = r.ok ? `matched ${r.body.matched}, replayed ${r.body.replayed}` : (r.body && r.body.error) || 'HTTP ' + r.status;
});

// ---- training

function renderTraining(t) {
  state.training = t;
  if (!t || $('page-training').hidden) return;
  if (t.error) { fill($('training-cards'), card('Run', 'unknown', t.error)); return; }
  const p = t.progress || {};
  const total = p.totalSteps || 0;
  fill($('training-cards'),
    card('Run', t.state || 'idle', t.trigger ? 'started by ' + t.trigger + (t.version ? ' · published ' + t.version : '') : (t.error || '')),
    card('Step', total ? `${fmt(p.step, 0)} / ${fmt(total, 0)}` : '–', p.epoch ? 'epoch ' + p.epoch : ''),
    card('Loss', fmt(p.loss, 4), 'last step'),
    card('Learning rate', p.learningRate === undefined || p.learningRate === null ? '–' : p.learningRate.toExponential(2), 'last step'),
    card('Images/s', fmt(p.imagesPerSecond, 1), 'this epoch'),
    card('ETA', t.state === 'running' ? duration(p.etaSeconds) : '–', p.elapsedSeconds ? 'elapsed ' + duration(p.elapsedSeconds) : ''));
  const bar = $('training-progress');
  bar.max = Math.max(1, total); bar.value = p.step || 0;
  bar.setAttribute('aria-valuetext', total ? `${p.step} of ${total} steps` : 'no run');
  const curve = p.curve || [];
  chartInto('loss-chart', curve.map((c) => [c[0], c[1]]), { label: 'training loss per step', yFormat: (v) => fmt(v, 3) });
  chartInto('lr-chart', curve.map((c) => [c[0], c[2]]), { label: 'learning rate per step', cls: 'line2', yFormat: (v) => v.toExponential(1) });
  fill($('epoch-table').querySelector('tbody'), (p.epochs || []).length ? p.epochs.map((e) => h('tr', {},
    h('th', { scope: 'row' }, e.epoch), h('td', { class: 'num' }, fmt(e.trainLoss, 4)), h('td', { class: 'num' }, pct(e.validAccuracy))))
    : [h('tr', {}, h('td', { colspan: 3, class: 'muted' }, 'No epoch finished yet.'))]);
  $('train-submit').disabled = !allowed('train') || t.state === 'running';
  $('train-submit').title = !allowed('train') ? needs('train') : t.state === 'running' ? 'a run is in progress' : '';
}

async function loadTrainingFields() {
  if (state.training) renderTraining(state.training);
  if (state.fields) return;
  const r = await api('/api/train/fields');
  if (!r.ok) {
    fill($('train-fields'), h('p', { class: 'muted' }, r.status === 501 ? 'Not available on this trainer.' : (r.body && r.body.error) || 'HTTP ' + r.status));
    return;
  }
  state.fields = r.body.fields;
  fill($('train-fields'), state.fields.map((f) => {
    const id = 'field-' + f.name;
    let input;
    if (f.type === 'choice') input = h('select', { id, name: f.name }, f.choices.map((c) => h('option', { value: c, selected: c === f.value }, c)));
    else if (f.type === 'boolean') input = h('input', { type: 'checkbox', id, name: f.name, checked: !!f.value });
    else if (f.type === 'integer' || f.type === 'number') {
      input = h('input', { type: 'number', id, name: f.name, value: f.value === null ? '' : f.value, min: f.min, max: f.max, step: f.type === 'integer' ? 1 : 'any' });
    } else input = h('input', { type: 'text', id, name: f.name, value: f.value === null ? '' : f.value });
    const bounds = f.min !== undefined ? ` (${f.exclusiveMin ? 'above ' : ''}${f.min} to ${f.max})` : '';
    return h('div', { class: 'field' }, h('label', { for: id }, f.name), input, h('span', { class: 'help', id: id + '-help' }, f.help + bounds));
  }));
  for (const f of state.fields) $('field-' + f.name).setAttribute('aria-describedby', 'field-' + f.name + '-help');
}

$('train-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!allowed('train')) return;
  const body = {};
  for (const f of state.fields || []) {
    const el = $('field-' + f.name);
    let v;
    if (f.type === 'boolean') v = el.checked;
    else if (f.type === 'integer') v = el.value === '' ? null : parseInt(el.value, 10);
    else if (f.type === 'number') v = el.value === '' ? null : parseFloat(el.value);
    else v = el.value === '' ? null : el.value;
    if (v !== f.value && !(v === null && (f.value === null || f.value === undefined))) body[f.name] = v;
  }
  const summary = Object.keys(body).length ? Object.entries(body).map(([k, v]) => `${k}=${v}`).join(', ') : 'the trainer’s recipe as it is';
  const values = await confirmAction('Start training', `Start a run with ${summary}? It publishes a new version per epoch.`, [], 'Start');
  if (!values) return;
  const r = await api('/api/train', { method: 'POST', body });
  $('train-result').textContent = r.ok ? 'started: ' + (r.body.state || 'running') : (r.body && r.body.error) || 'HTTP ' + r.status;
});

boot();
