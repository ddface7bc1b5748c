// Shelf seller console. Plain ES modules, no framework, no inline script (the page's CSP forbids it).
// Every datum comes from the Shelf API with the seller's bearer token, kept in sessionStorage only.
import { Api, ApiError, followStream } from './api.js';
import { LagHistory, formatMs, lagChart } from './chart.js';

const TOKEN_KEY = 'shelf.console.token';
const PAGE_SIZE = 25;
const LOW_STOCK = 5;
const DRY_RUN_EVENTS = 200;
const POLL_MS = 5000;

const $ = (selector, root = document) => root.querySelector(selector);

/** Builds an element: h('td', {class: 'num', 'data-label': 'SKU'}, 'text', child, ...). Text is always text (no HTML). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// Brings `old` to look like `fresh` in place, so the element a user is about to click survives a periodic redraw
// (a row rebuilt between mouse-down and mouse-up loses the click). Listeners stay those of `old`.
function morph(old, fresh) {
  if (old.nodeType !== fresh.nodeType || old.nodeName !== fresh.nodeName) { old.replaceWith(fresh); return; }
  if (old.nodeType === Node.TEXT_NODE) { if (old.data !== fresh.data) old.data = fresh.data; return; }
  if (old.nodeType !== Node.ELEMENT_NODE) { old.replaceWith(fresh); return; }
  for (const name of old.getAttributeNames()) if (!fresh.hasAttribute(name)) old.removeAttribute(name);
  for (const name of fresh.getAttributeNames()) {
    if (old.getAttribute(name) !== fresh.getAttribute(name)) old.setAttribute(name, fresh.getAttribute(name));
  }
  const before = [...old.childNodes];
  const after = [...fresh.childNodes];
  after.forEach((child, i) => (i < before.length ? morph(before[i], child) : old.append(child)));
  before.slice(after.length).forEach((child) => child.remove());
}

// Redraws a table body whose rows carry `data-<key>`: a row whose key is still listed is updated in place.
function renderKeyedRows(body, key, rows) {
  const existing = new Map([...body.children].filter((r) => r.dataset[key] !== undefined).map((r) => [r.dataset[key], r]));
  const next = rows.map((fresh) => {
    const old = existing.get(fresh.dataset[key]);
    if (!old) return fresh;
    morph(old, fresh);
    return old;
  });
  const unchangedOrder = next.length === body.children.length && next.every((row, i) => body.children[i] === row);
  if (!unchangedOrder) body.replaceChildren(...next);
}

function ago(iso, now = Date.now()) {
  if (!iso) return 'never';
  const ms = Math.max(0, now - Date.parse(iso));
  if (ms < 1500) return 'just now';
  return `${formatMs(ms)} ago`;
}

function clock(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

const state = {
  api: null,
  admin: false,
  query: '',
  cursor: null,
  rows: new Map(), // sku -> {tr, item}
  refreshTimers: new Map(),
  stream: null,
  timers: [],
  lag: new LagHistory(),
  dlqConfirm: new Map(),
  ruleSeq: 0,
  ruleAbort: null,
  ruleTimer: null,
  parsedOk: false,
};

// ---------------------------------------------------------------------------------------------------------------- sign-in

async function signIn(token, { silent = false } = {}) {
  const error = $('#signin-error');
  error.textContent = '';
  const api = new Api(token);
  try {
    await api.get('/v1/catalog?limit=1');
  } catch (e) {
    if (!silent) {
      error.textContent = e instanceof ApiError && e.status === 401 ? 'Shelf did not accept this token (unknown, expired or revoked).'
        : e instanceof ApiError && e.status === 403 ? 'This token has no read scope; the console needs at least read.'
        : `Could not reach Shelf: ${e.message}`;
    }
    sessionStorage.removeItem(TOKEN_KEY);
    return false;
  }
  let admin = false;
  try {
    await api.get('/v1/connections');
    admin = true;
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 403)) throw e;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  state.api = api;
  state.admin = admin;
  enterApp();
  return true;
}

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  if (state.stream) state.stream.stop();
  for (const t of state.timers) clearInterval(t);
  state.timers = [];
  state.api = null;
  state.rows.clear();
  $('#stock-rows').replaceChildren();
  $('#app').hidden = true;
  $('#nav').hidden = true;
  $('#who').hidden = true;
  $('#live').hidden = true;
  $('#sign-out').hidden = true;
  $('#signin').hidden = false;
  $('#signin-error').textContent = message || '';
  $('#token').value = '';
  $('#token').focus();
}

/** A 401 on any call means the token stopped working: back to sign-in. */
function guard(promise) {
  return promise.catch((e) => {
    if (e instanceof ApiError && e.status === 401) signOut('Your token is no longer accepted. Sign in again.');
    throw e;
  });
}

function enterApp() {
  $('#signin').hidden = true;
  $('#app').hidden = false;
  $('#nav').hidden = false;
  $('#sign-out').hidden = false;
  const who = $('#who');
  who.hidden = false;
  who.textContent = state.admin ? 'Signed in · read + admin' : 'Signed in · read only';
  document.body.classList.toggle('read-only', !state.admin);
  for (const el of document.querySelectorAll('.admin-only')) el.hidden = !state.admin;
  for (const el of document.querySelectorAll('.needs-admin')) el.hidden = state.admin;
  $('#main').focus();
  loadCatalog(true);
  startStream();
  if (state.admin) {
    refreshChannels();
    loadRules();
    loadReconciliation();
    loadSpikes();
    state.timers.push(setInterval(refreshChannels, POLL_MS));
    state.timers.push(setInterval(loadSpikes, 30_000));
  }
  state.timers.push(setInterval(refreshFreshness, 10_000));
}

// ------------------------------------------------------------------------------------------------------------------ stock

async function loadCatalog(reset) {
  const status = $('#stock-status');
  if (reset) {
    state.cursor = null;
    state.rows.clear();
    $('#stock-rows').replaceChildren();
  }
  status.textContent = 'Loading…';
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (state.query) params.set('q', state.query);
  if (state.cursor) params.set('cursor', state.cursor);
  let page;
  try {
    page = await guard(state.api.get(`/v1/catalog?${params}`));
  } catch (e) {
    status.textContent = `Could not load the catalog: ${e.message}`;
    return;
  }
  state.cursor = page.nextCursor || null;
  $('#more').hidden = !state.cursor;
  const body = $('#stock-rows');
  for (const item of page.items) {
    const tr = h('tr', { 'data-sku': item.sku });
    tr.append(h('td', { 'data-label': 'SKU' }, h('span', { class: 'mono', text: item.sku }), h('span', { class: 'sub', text: item.title })));
    tr.append(h('td', { 'data-label': 'Available', class: 'num' }, h('span', { class: 'big', text: String(item.available) })));
    for (const label of ['Locations', 'Channels', 'Freshness', 'Confidence']) tr.append(h('td', { 'data-label': label, text: '…' }));
    body.append(tr);
    state.rows.set(item.sku, { tr, item });
  }
  const shown = state.rows.size;
  status.textContent = shown === 0 ? (state.query ? `No SKU matches “${state.query}”.` : 'No SKUs yet.')
    : `${shown} SKU${shown === 1 ? '' : 's'}${state.cursor ? ' (more available)' : ''}${state.query ? ` matching “${state.query}”` : ''}.`;
  await inBatches(page.items.map((item) => item.sku), 6, (sku) => refreshRow(sku));
}

async function inBatches(list, size, fn) {
  for (let i = 0; i < list.length; i += size) await Promise.all(list.slice(i, i + size).map((x) => fn(x).catch(() => {})));
}

async function refreshRow(sku, { flash = false } = {}) {
  const entry = state.rows.get(sku);
  if (!entry) return;
  const path = encodeURIComponent(sku);
  const [stock, offer] = await Promise.all([
    guard(state.api.get(`/v1/stock/${path}`)),
    guard(state.api.get(`/v1/offers/${path}?qty=1`)).catch(() => null),
  ]);
  entry.stock = stock;
  entry.offer = offer;
  renderRow(entry, flash);
}

function renderRow(entry, flash) {
  const { tr, item, stock, offer } = entry;
  const total = stock.total;
  const oversold = total.oversold > 0;
  const low = !oversold && total.available < LOW_STOCK;
  tr.className = oversold ? 'oversold' : low ? 'low' : '';
  tr.dataset.available = String(total.available);
  const badges = [];
  if (oversold) badges.push(h('span', { class: 'badge bad', text: `Oversold ${total.oversold}` }));
  else if (total.available === 0) badges.push(h('span', { class: 'badge warn', text: 'Out of stock' }));
  else if (low) badges.push(h('span', { class: 'badge warn', text: 'Low stock' }));
  if (stock.spikeMultiplier > 1) badges.push(h('span', { class: 'badge warn', text: `Demand spike · safety ×${stock.spikeMultiplier}` }));
  if (item.active === false) badges.push(h('span', { class: 'badge', text: 'Discontinued' }));

  const cells = [
    h('td', { 'data-label': 'SKU' }, h('span', { class: 'mono', text: item.sku }), h('span', { class: 'sub', text: item.title }),
      badges.length ? h('span', { class: 'sub' }, badges) : null),
    h('td', { 'data-label': 'Available', class: 'num' }, h('span', { class: 'big available', text: String(total.available) }),
      h('span', { class: 'sub', text: `on hand ${total.onHand} · committed ${total.committed} · reserved ${total.reserved}` +
        (total.safetyStock ? ` · safety ${total.safetyStock}` : '') })),
    h('td', { 'data-label': 'Locations' }, h('ul', { class: 'chips', 'aria-label': `${item.sku} per location` },
      stock.locations.map((l) => h('li', { class: l.available === 0 ? 'zero' : '', 'data-location': l.location,
        text: `${l.location} ${l.available}${l.oversold ? ` (oversold ${l.oversold})` : ''}` })))),
    h('td', { 'data-label': 'Channels' }, stock.channels.length === 0 ? h('span', { class: 'muted', text: 'not listed' })
      : h('ul', { class: 'chips', 'aria-label': `${item.sku} published per channel` },
        stock.channels.map((c) => h('li', { class: !c.listed ? 'paused' : c.publishedQuantity === 0 ? 'zero' : '', 'data-channel': c.channel,
          text: `${c.channel} ${c.publishedQuantity}${c.listed ? '' : ' (paused)'}` })))),
    freshnessCell(offer),
    h('td', { 'data-label': 'Confidence', class: 'num' }, offer ? confidenceText(offer) : '—'),
  ];
  tr.replaceChildren(...cells);
  if (flash) {
    tr.classList.remove('flash');
    void tr.offsetWidth; // restart the animation
    tr.classList.add('flash');
  }
}

function freshnessCell(offer) {
  if (!offer || !offer.freshness) return h('td', { 'data-label': 'Freshness', text: '—' });
  const f = offer.freshness;
  const stalest = (f.channels || []).filter((c) => c.lagMs !== undefined).sort((a, b) => b.lagMs - a.lagMs)[0];
  return h('td', { 'data-label': 'Freshness' },
    h('span', { text: `${Math.round(f.freshnessScore * 100)}% fresh` }),
    h('span', { class: 'sub', text: `as of ${ago(f.asOf)}` }),
    stalest ? h('span', { class: 'sub', text: `quietest: ${stalest.channel} heard ${formatMs(stalest.lagMs)} ago` }) : null);
}

function confidenceText(offer) {
  const pct = `${(offer.confidence * 100).toFixed(offer.confidence > 0.995 && offer.confidence < 1 ? 1 : 0)}%`;
  const reasons = (offer.reasons || []).filter((r) => r !== 'low_stock' && r !== 'insufficient_stock');
  return h('span', {}, h('span', { text: pct }), reasons.length ? h('span', { class: 'sub', text: reasons.join(', ').replaceAll('_', ' ') }) : null);
}

/** Freshness ages move with time: refetch the rows' offers now and then. */
function refreshFreshness() {
  if (!state.api) return;
  inBatches([...state.rows.keys()], 6, async (sku) => {
    const entry = state.rows.get(sku);
    if (!entry || !entry.stock) return;
    entry.offer = await guard(state.api.get(`/v1/offers/${encodeURIComponent(sku)}?qty=1`)).catch(() => entry.offer);
    renderRow(entry, false);
  });
}

function scheduleRowRefresh(sku) {
  if (!state.rows.has(sku) || state.refreshTimers.has(sku)) return;
  state.refreshTimers.set(sku, setTimeout(() => {
    state.refreshTimers.delete(sku);
    refreshRow(sku, { flash: true }).catch(() => {});
  }, 40));
}

// ----------------------------------------------------------------------------------------------------------------- stream

function startStream() {
  const live = $('#live');
  live.hidden = false;
  state.stream = followStream(state.api, {
    onState(s) {
      live.textContent = s === 'live' ? 'Live' : s === 'connecting' ? 'Connecting…' : 'Reconnecting…';
      live.className = `live ${s === 'live' ? 'on' : s === 'down' ? 'down' : ''}`;
    },
    onEvent(event, { live: isLive }) {
      if (!isLive) return; // history the server replays before going live
      if (event.sku) scheduleRowRefresh(event.sku);
      if (!state.admin) return;
      if (event.type === 'sync.failed') refreshChannels();
      if (event.type === 'demand.spike_started' || event.type === 'demand.spike_ended') loadSpikes();
      if (event.type === 'inventory.variance_detected') loadReconciliation();
      if (event.type === 'rule.acted') loadRules();
    },
  });
}

// --------------------------------------------------------------------------------------------------------------- channels

async function refreshChannels() {
  if (!state.api || !state.admin) return;
  const api = state.api;
  const [connections, dlq, metrics] = await Promise.all([
    guard(api.get('/v1/connections')).catch(() => null),
    guard(api.get('/v1/dlq?limit=200')).catch(() => null),
    api.get('/metrics', { accept: 'text/plain' }).catch(() => null),
  ]);
  if (typeof metrics === 'string') state.lag.add(Date.now(), metrics);
  if (connections) renderConnections(connections.connections);
  if (dlq) renderDLQ(dlq.deadLetters);
}

function health(c, now = Date.now()) {
  const lastError = c.lastError;
  const failing = lastError && (c.queueDepth > 0 || (c.lastErrorAt && (!c.lastPushedAt || Date.parse(c.lastErrorAt) > Date.parse(c.lastPushedAt))));
  if (failing) return ['down', 'Failing'];
  const quietMs = c.lastHeardAt ? now - Date.parse(c.lastHeardAt) : Infinity;
  if (c.deadLetters > 0) return ['degraded', 'Dead letters'];
  if (quietMs > Math.max(120_000, c.pollIntervalSeconds * 3000)) return ['degraded', 'Quiet'];
  return ['ok', 'Healthy'];
}

function renderConnections(list) {
  const body = $('#conn-rows');
  if (list.length === 0) {
    body.replaceChildren(h('tr', {}, h('td', { colspan: 5, class: 'empty muted', text: 'No channel connections.' })));
    return;
  }
  const now = Date.now();
  renderKeyedRows(body, 'connection', list.map((c) => {
    const [kind, label] = health(c, now);
    const summary = state.lag.summary(c.id);
    const window = summary.windowMs ? `last ${formatMs(summary.windowMs)}` : 'so far';
    const lagText = summary.count > 0 ? `p50 ${formatMs(summary.p50)} · p99 ${formatMs(summary.p99)} (${summary.count} pushes, ${window})`
      : `no pushes acknowledged ${summary.windowMs ? `in the ${window}` : 'yet'}`;
    return h('tr', { 'data-connection': c.id },
      h('td', { 'data-label': 'Connection' }, h('span', { class: 'mono', text: c.id }),
        h('span', { class: 'sub', text: `${c.channel} · ${c.kind}${c.pushEnabled ? '' : ' · push off'}` })),
      h('td', { 'data-label': 'Health' }, h('span', { class: `health ${kind}`, text: label }),
        h('span', { class: 'sub', text: `heard ${ago(c.lastHeardAt, now)}${c.source ? ` (${c.source})` : ''}` }),
        h('span', { class: 'sub', text: `pushed ${ago(c.lastPushedAt, now)}` })),
      h('td', { 'data-label': 'Sync lag' }, h('div', { class: 'lag' },
        lagChart(state.lag.series(c.id), { now, spanMs: state.lag.span(now), label: `Sync lag of ${c.id}` }),
        h('span', { class: 'legend' }, h('span', { class: 'key50', text: '— p50 ' }), h('span', { class: 'key99', text: '-- p99' })),
        h('span', { class: 'sub', text: lagText }))),
      h('td', { 'data-label': 'Queue', class: 'num' }, h('span', { text: `${c.queueDepth ?? 0} retrying` }),
        h('span', { class: 'sub', text: `${c.deadLetters ?? 0} dead-lettered` })),
      h('td', { 'data-label': 'Last error' }, c.lastError ? h('span', {}, h('span', { class: 'mono', text: c.lastError }),
        c.lastErrorAt ? h('span', { class: 'sub', text: clock(c.lastErrorAt) }) : null) : h('span', { class: 'muted', text: 'none' })));
  }));
}

function renderDLQ(letters) {
  const body = $('#dlq-rows');
  if (letters.length === 0) {
    $('#dlq-title').textContent = 'Dead letters (0)';
    body.replaceChildren(h('tr', {}, h('td', { colspan: 7, class: 'empty muted', text: 'The dead-letter queue is empty.' })));
    return;
  }
  // Keep the focused button's place when the list is redrawn under it.
  const focusedKey = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.key : null;
  renderKeyedRows(body, 'dlq', letters.map((d) => {
    const confirming = state.dlqConfirm.has(d.id);
    return h('tr', { 'data-dlq': d.id },
      h('td', { 'data-label': 'Id', class: 'num', text: String(d.id) }),
      h('td', { 'data-label': 'Connection', class: 'mono', text: d.connection }),
      h('td', { 'data-label': 'SKU', class: 'mono', text: d.sku }),
      h('td', { 'data-label': 'Attempts', class: 'num', text: String(d.attempts) }),
      h('td', { 'data-label': 'Last error', text: d.lastError }),
      h('td', { 'data-label': 'Failed', text: clock(d.failedAt) }),
      h('td', { 'data-label': 'Actions' }, h('span', { class: 'row' },
        h('button', { type: 'button', class: 'small replay', 'data-key': `replay-${d.id}`, 'aria-label': `Replay dead letter ${d.id} (${d.sku} to ${d.connection})`,
          onclick: () => dlqAction('replay', d), text: 'Replay' }),
        h('button', { type: 'button', class: 'small danger discard', 'data-key': `discard-${d.id}`,
          'aria-label': confirming ? `Confirm: discard dead letter ${d.id}` : `Discard dead letter ${d.id} (${d.sku} to ${d.connection})`,
          onclick: () => dlqAction('discard', d), text: confirming ? 'Confirm discard' : 'Discard' }))));
  }));
  if (focusedKey) {
    const again = body.querySelector(`[data-key="${CSS.escape(focusedKey)}"]`);
    if (again) again.focus();
  }
  $('#dlq-title').textContent = `Dead letters (${letters.length})`;
}

async function dlqAction(kind, letter) {
  const status = $('#dlq-status');
  if (kind === 'discard' && !state.dlqConfirm.has(letter.id)) {
    state.dlqConfirm.set(letter.id, setTimeout(() => { state.dlqConfirm.delete(letter.id); refreshChannels(); }, 5000));
    status.textContent = `Press “Confirm discard” to drop dead letter ${letter.id} without sending it.`;
    refreshChannels();
    return;
  }
  clearTimeout(state.dlqConfirm.get(letter.id));
  state.dlqConfirm.delete(letter.id);
  try {
    if (kind === 'replay') {
      await guard(state.api.post(`/v1/dlq/${letter.id}/replay`));
      status.textContent = `Replayed dead letter ${letter.id}: ${letter.sku} goes back in line for ${letter.connection} with its current values.`;
    } else {
      await guard(state.api.delete(`/v1/dlq/${letter.id}`));
      status.textContent = `Discarded dead letter ${letter.id}.`;
    }
  } catch (e) {
    status.textContent = `Could not ${kind} dead letter ${letter.id}: ${e.message}`;
  }
  await refreshChannels();
  $('#dlq-title').setAttribute('tabindex', '-1');
  if (!document.activeElement || document.activeElement === document.body) $('#dlq-title').focus();
}

// ------------------------------------------------------------------------------------------------------------------ rules

function onRuleInput() {
  clearTimeout(state.ruleTimer);
  state.parsedOk = false;
  $('#rule-save').disabled = true;
  const text = $('#rule-text').value;
  if (!text.trim()) {
    if (state.ruleAbort) state.ruleAbort.abort();
    $('#rule-feedback').replaceChildren();
    $('#rule-text').removeAttribute('aria-invalid');
    return;
  }
  state.ruleTimer = setTimeout(() => parseRule(text), 300);
}

// What the understood rule would have done over the seller's latest events (nothing is written, no action runs).
async function dryRunRule(text, seq) {
  const out = $('#rule-dry-result');
  out.replaceChildren(h('p', { class: 'hint', text: 'Running…' }));
  try {
    const result = await guard(state.api.post(`/v1/rules:parse?recent=${DRY_RUN_EVENTS}`, { text }));
    if (seq !== state.ruleSeq) return;
    const run = result.dryRun;
    const summary = `Over events ${run.fromSequence}–${run.toSequence} (${run.considered}), the trigger matched ${run.matched} ` +
      `and the rule would have fired ${run.firings.length} time${run.firings.length === 1 ? '' : 's'}.`;
    out.replaceChildren(h('p', { class: 'dry-summary', text: summary }),
      run.firings.length === 0 ? null : h('ul', { class: 'dry-firings' }, run.firings.slice(-20).reverse().map((f) =>
        h('li', { 'data-sequence': String(f.sequence) }, h('span', { class: 'mono', text: `#${f.sequence} ${f.sku}` }),
          ` ${f.type} · ${clock(f.recordedAt)}`))));
  } catch (e) {
    if (seq !== state.ruleSeq) return;
    out.replaceChildren(h('p', { class: 'message', text: e.message }));
  }
}

async function parseRule(text) {
  if (state.ruleAbort) state.ruleAbort.abort();
  const controller = new AbortController();
  state.ruleAbort = controller;
  const seq = ++state.ruleSeq;
  const feedback = $('#rule-feedback');
  const area = $('#rule-text');
  try {
    const result = await guard(state.api.post('/v1/rules:parse', { text }, { signal: controller.signal }));
    if (seq !== state.ruleSeq) return;
    area.setAttribute('aria-invalid', 'false');
    state.parsedOk = true;
    $('#rule-save').disabled = false;
    feedback.replaceChildren(
      h('p', { class: 'ok', text: '✓ Understood. Shelf will read it as:' }),
      h('pre', { class: 'explain', text: result.explain }),
      h('button', { type: 'button', id: 'rule-dry-run', class: 'small', onclick: () => dryRunRule(text, seq),
        text: `Dry run on the last ${DRY_RUN_EVENTS} events` }),
      h('div', { id: 'rule-dry-result', 'aria-live': 'polite' }));
  } catch (e) {
    if (controller.signal.aborted || seq !== state.ruleSeq) return;
    area.setAttribute('aria-invalid', 'true');
    const error = e instanceof ApiError ? e.problem.error : null;
    if (!error) {
      feedback.replaceChildren(h('p', { class: 'message', text: e.message }));
      return;
    }
    feedback.replaceChildren(...ruleErrorView(text, error));
  }
}

/** The sentence with the error span underlined, a caret line under it, the message and clickable suggestions. */
function ruleErrorView(text, error) {
  const scalars = Array.from(text); // spans count Unicode scalars, as the API documents
  const start = Math.min(error.span.start, scalars.length);
  const end = Math.min(Math.max(error.span.end, start), scalars.length);
  const before = scalars.slice(0, start).join('');
  const inside = scalars.slice(start, end).join('');
  const after = scalars.slice(end).join('');
  const atEnd = start === end;
  const mark = h('mark', { class: `span${atEnd ? ' at-end' : ''}`, title: error.message, text: atEnd ? '␣' : inside });
  const caret = ' '.repeat(Array.from(before.split('\n').pop()).length) + '^'.repeat(Math.max(1, end - start));
  const views = [
    h('pre', { class: 'excerpt', 'aria-hidden': 'true' }, before, mark, after, '\n', h('span', { class: 'caret', text: caret })),
    h('p', { class: 'message', role: 'alert' }, h('span', { text: error.message }),
      error.found !== undefined ? h('span', { class: 'visually-hidden', text: ` (at “${error.found}”, characters ${start + 1}–${end})` }) : null),
  ];
  if (error.suggestions && error.suggestions.length) {
    views.push(h('div', { class: 'suggestions' }, h('span', { text: 'Did you mean' }),
      error.suggestions.slice(0, 5).map((s) => h('button', {
        type: 'button', class: 'small quiet suggestion', 'aria-label': `Replace “${atEnd ? 'end of sentence' : inside}” with “${s}”`,
        onclick: () => applySuggestion(scalars, start, end, s), text: s,
      }))));
  } else if (error.expected && error.expected.length) {
    views.push(h('p', { class: 'hint', text: `Expected: ${error.expected.slice(0, 8).join(', ')}` }));
  }
  if (error.hint) views.push(h('p', { class: 'hint', text: error.hint }));
  return views;
}

function applySuggestion(scalars, start, end, suggestion) {
  const before = scalars.slice(0, start).join('');
  const atEnd = start === end && start === scalars.length;
  const insert = atEnd && before && !before.endsWith(' ') ? ` ${suggestion}` : suggestion;
  const text = before + insert + scalars.slice(end).join('');
  const area = $('#rule-text');
  area.value = text;
  area.focus();
  const caret = (before + insert).length;
  area.setSelectionRange(caret, caret);
  onRuleInput();
}

async function saveRule(event) {
  event.preventDefault();
  const text = $('#rule-text').value;
  if (!state.parsedOk || !text.trim()) return;
  const status = $('#rules-status');
  try {
    const rule = await guard(state.api.post('/v1/rules', { text }));
    status.textContent = `Saved rule ${rule.id}; it is enabled.`;
    $('#rule-text').value = '';
    onRuleInput();
    await loadRules();
  } catch (e) {
    status.textContent = `Could not save the rule: ${e.message}`;
  }
}

async function loadRules() {
  if (!state.admin) return;
  let rules;
  try {
    rules = (await guard(state.api.get('/v1/rules'))).rules;
  } catch (e) {
    $('#rules-status').textContent = `Could not load rules: ${e.message}`;
    return;
  }
  const list = $('#rule-list');
  if (rules.length === 0) {
    list.replaceChildren(h('li', { class: 'muted', text: 'No rules yet. Write one above.' }));
    return;
  }
  // Rows are updated in place (renderKeyedRows keeps the first listeners), so the toggle reads the state it shows.
  renderKeyedRows(list, 'rule', rules.map((r) => h('li', { class: r.enabled ? '' : 'disabled', 'data-rule': r.id },
    h('p', { class: 'text', text: r.text }),
    h('p', { class: 'explain mono', text: r.explain }),
    h('div', { class: 'row' },
      h('span', { class: r.enabled ? 'badge ok' : 'badge warn', text: r.enabled ? 'Enabled' : r.pausedReason ? `Paused: ${r.pausedReason}` : 'Disabled' }),
      h('span', { class: 'row' },
        h('button', { type: 'button', class: 'small quiet toggle', 'aria-pressed': String(r.enabled), 'aria-label': `${r.enabled ? 'Disable' : 'Enable'} rule: ${r.text}`,
          onclick: (ev) => setRuleEnabled(r, ev.currentTarget.getAttribute('aria-pressed') !== 'true'), text: r.enabled ? 'Disable' : 'Enable' }),
        h('button', { type: 'button', class: 'small danger', 'aria-label': `Delete rule: ${r.text}`,
          onclick: (ev) => deleteRule(r, ev.currentTarget), text: 'Delete' }))))));
}

async function setRuleEnabled(rule, enabled) {
  try {
    await guard(state.api.patch(`/v1/rules/${encodeURIComponent(rule.id)}`, { enabled }));
    $('#rules-status').textContent = `Rule ${enabled ? 'enabled' : 'disabled'}.`;
  } catch (e) {
    $('#rules-status').textContent = `Could not change the rule: ${e.message}`;
  }
  await loadRules();
  const again = document.querySelector(`[data-rule="${CSS.escape(rule.id)}"] .toggle`);
  if (again) again.focus();
}

async function deleteRule(rule, button) {
  if (button.dataset.confirm !== 'yes') {
    button.dataset.confirm = 'yes';
    button.textContent = 'Confirm delete';
    setTimeout(() => { if (button.isConnected) { button.dataset.confirm = ''; button.textContent = 'Delete'; } }, 5000);
    return;
  }
  try {
    await guard(state.api.delete(`/v1/rules/${encodeURIComponent(rule.id)}`));
    $('#rules-status').textContent = 'Rule deleted.';
  } catch (e) {
    $('#rules-status').textContent = `Could not delete the rule: ${e.message}`;
  }
  await loadRules();
}

// --------------------------------------------------------------------------------------------- reconciliation and spikes

async function loadReconciliation(run = false) {
  if (!state.admin) return;
  const status = $('#recon-status');
  const body = $('#recon-body');
  let report;
  try {
    if (run) status.textContent = 'Reconciling every connection…';
    report = await guard(run ? state.api.post('/v1/reconciliation:run') : state.api.get('/v1/reconciliation'));
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      status.textContent = 'No reconciliation pass has run since Shelf started.';
      body.replaceChildren();
    } else {
      status.textContent = `Could not load the reconciliation report: ${e.message}`;
    }
    return;
  }
  status.textContent = `Latest pass ${clock(report.finishedAt)}: ${report.skusChecked} counts checked on ${report.connections.length} connections, ` +
    `${report.variancesFound} variance${report.variancesFound === 1 ? '' : 's'}, ${report.healed} healed.`;
  const byConnection = new Map(report.connections.map((c) => [c, { count: 0, units: 0 }]));
  for (const v of report.variances) {
    const entry = byConnection.get(v.connection) || { count: 0, units: 0 };
    entry.count += 1;
    entry.units += v.reported - v.expected;
    byConnection.set(v.connection, entry);
  }
  const summary = h('table', { class: 'cards', id: 'recon-table' },
    h('caption', { class: 'visually-hidden', text: 'Variances per connection in the latest reconciliation pass' }),
    h('thead', {}, h('tr', {}, ['Connection', 'Variances', 'Net units (reported − published)', 'Error'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, [...byConnection.entries()].map(([connection, v]) => h('tr', { class: v.count ? 'low' : '', 'data-connection': connection },
      h('td', { 'data-label': 'Connection', class: 'mono', text: connection }),
      h('td', { 'data-label': 'Variances', class: 'num', text: String(v.count) }),
      h('td', { 'data-label': 'Net units', class: 'num', text: v.units > 0 ? `+${v.units}` : String(v.units) }),
      h('td', { 'data-label': 'Error', text: report.errors[connection] || '—' })))));
  const views = [summary];
  if (report.variances.length) {
    views.push(h('h3', { text: 'Variances' }), h('table', { class: 'cards' },
      h('thead', {}, h('tr', {}, ['SKU', 'Connection', 'Published', 'Channel reported'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, report.variances.slice(0, 100).map((v) => h('tr', {},
        h('td', { 'data-label': 'SKU', class: 'mono', text: v.sku }),
        h('td', { 'data-label': 'Connection', class: 'mono', text: v.connection }),
        h('td', { 'data-label': 'Published', class: 'num', text: String(v.expected) }),
        h('td', { 'data-label': 'Reported', class: 'num', text: String(v.reported) }))))));
  }
  body.replaceChildren(...views);
}

async function loadSpikes() {
  if (!state.admin || !state.api) return;
  const list = $('#spike-list');
  try {
    const policy = await guard(state.api.get('/v1/settings/spikes'));
    $('#spike-policy').textContent = `A spike starts when a SKU sells at ${policy.factor}× its baseline rate over ${formatMs(policy.window * 1000)} ` +
      `(at least ${policy.minimumUnits} units); its safety stock is multiplied by ${policy.multiplier} until the rate falls back.`;
  } catch { /* the policy line is informative only */ }
  // Active spikes: the latest spike event per SKU over the last day of the audit trail.
  const since = new Date(Date.now() - 24 * 3600_000).toISOString();
  const latest = new Map();
  let cursor = null;
  try {
    for (let page = 0; page < 10; page += 1) {
      const params = new URLSearchParams({ limit: '1000' });
      if (cursor) params.set('cursor', cursor); else params.set('since', since);
      const answer = await guard(state.api.get(`/v1/audit?${params}`));
      for (const e of answer.events) {
        const type = e.type || (e.event && e.event.type);
        const sku = e.sku || (e.event && e.event.sku);
        if (type === 'demand.spike_started' || type === 'demand.spike_ended') latest.set(sku, { type, at: e.recordedAt || e.occurredAt, e });
      }
      if (!answer.nextCursor) break;
      cursor = answer.nextCursor;
    }
  } catch (e) {
    list.replaceChildren(h('li', { class: 'muted', text: `Could not read the audit trail: ${e.message}` }));
    return;
  }
  const active = [...latest.entries()].filter(([, v]) => v.type === 'demand.spike_started');
  list.replaceChildren(...(active.length === 0 ? [h('li', { class: 'muted', text: 'No active demand spikes.' })]
    : active.map(([sku, v]) => h('li', { 'data-spike': sku }, h('span', { class: 'badge warn', text: 'Spike' }), h('span', { class: 'mono', text: ` ${sku}` }),
      h('span', { class: 'sub', text: ` since ${clock(v.at)}` })))));
}

// ------------------------------------------------------------------------------------------------------------------- wiring

function wire() {
  $('#signin-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const token = $('#token').value.trim();
    if (!token) {
      $('#signin-error').textContent = 'Enter a Shelf token.';
      return;
    }
    $('#token').value = '';
    await signIn(token);
  });
  $('#sign-out').addEventListener('click', () => signOut('Signed out.'));
  $('#search-form').addEventListener('submit', (event) => {
    event.preventDefault();
    state.query = $('#q').value.trim();
    loadCatalog(true);
  });
  let searchTimer = null;
  $('#q').addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      const q = $('#q').value.trim();
      if (q !== state.query) { state.query = q; loadCatalog(true); }
    }, 350);
  });
  $('#more').addEventListener('click', () => loadCatalog(false));
  $('#rule-text').addEventListener('input', onRuleInput);
  $('#rule-form').addEventListener('submit', saveRule);
  $('#recon-run').addEventListener('click', () => loadReconciliation(true));
  // Section links move keyboard focus to the section, not only the scroll position.
  for (const link of document.querySelectorAll('#nav a')) {
    link.addEventListener('click', (event) => {
      const target = document.getElementById(link.getAttribute('href').slice(1));
      if (!target) return;
      event.preventDefault();
      target.focus();
      target.scrollIntoView({ block: 'start' });
    });
  }
}

wire();
const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) signIn(saved, { silent: true }); else $('#token').focus();
