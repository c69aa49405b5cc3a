// The event timeline: filters (host, component, minimum level, time range, text), pages
// of 100 newest first following the API's cursor, live events added on top as they
// arrive, and each event's detail with its catalog rule's meaning and action.

import {el, replace, hostLink} from './dom.js';
import {fmtTime, levelRank} from './format.js';
import {getJSON, getRule} from './api.js';
import {levelBadge, clearedBadge, clippedText} from './alarms.js';

const PAGE = 100;
const MAX_ROWS = 2000; // live events push the oldest rows out beyond this
const FILTERS = ['host', 'component', 'level', 'since', 'until', 'q'];

const view = {
  active: false,
  filters: {},
  rows: [], // {ev, tr}, newest first
  ids: new Set(), // the store ids of the rows read from the API
  // The same event may come twice: from the stream, and from the API when a page was read
  // just after the batch was stored. Each source's recent rows wait here (signature ->
  // expiry times) to be matched once by the other; genuine repeats later are shown.
  pending: {api: new Map(), live: new Map()},
  next: '',
  load: 0, // the latest load; older answers are dropped
  detail: 0, // the latest detail request
  selected: null,
  onError: () => {},
  components: new Set(),
};

// sig identifies an event whether it came from the API or the stream (which has no id).
const sig = (e) => [e.site, e.time, e.host, e.raw].join('\u0000');

const MATCH_MS = 30e3; // a batch reaches the page well within this after it is stored

function remember(map, s, now) {
  if (!map.has(s)) map.set(s, []);
  map.get(s).push(now + MATCH_MS);
}

// claim consumes one unexpired entry of s.
function claim(map, s, now) {
  const times = map.get(s);
  if (!times) return false;
  while (times.length && times[0] < now) times.shift();
  const ok = times.length > 0;
  if (ok) times.shift();
  if (!times.length) map.delete(s);
  return ok;
}

function prune(map, now) {
  if (map.size < 5000) return;
  for (const [k, times] of map) if (times[times.length - 1] < now) map.delete(k);
}

// fromAPI reports whether an event read from the API is new to the page.
function fromAPI(ev, now) {
  if (ev.id !== undefined && view.ids.has(ev.id)) return false;
  if (ev.id !== undefined) view.ids.add(ev.id);
  if (claim(view.pending.live, sig(ev), now)) return false; // shown already, from the stream
  remember(view.pending.api, sig(ev), now);
  return true;
}

// fromStream reports whether a streamed event is new to the page.
function fromStream(ev, now) {
  if (claim(view.pending.api, sig(ev), now)) return false; // shown already, from the API
  remember(view.pending.live, sig(ev), now);
  return true;
}

// setupEvents wires the filter form and the buttons once.
export function setupEvents(onError) {
  view.onError = onError;
  const form = document.getElementById('event-filters');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const p = new URLSearchParams();
    for (const k of FILTERS) {
      const v = form.elements[k].value.trim();
      if (v) p.set(k, v);
    }
    const hash = '#/events' + (p.toString() ? '?' + p : '');
    if (location.hash === hash) showEvents(Object.fromEntries(p));
    else location.hash = hash;
  });
  document.getElementById('f-reset').addEventListener('click', () => {
    if (location.hash === '#/events') showEvents({});
    else location.hash = '#/events';
  });
  document.getElementById('events-more').addEventListener('click', () => load(true));
  document.getElementById('detail-close').addEventListener('click', closeDetail);
}

// showEvents shows the timeline with the filters of the address.
export function showEvents(params) {
  view.active = true;
  view.filters = {};
  const form = document.getElementById('event-filters');
  for (const k of FILTERS) {
    const v = params[k] || '';
    form.elements[k].value = v;
    if (v) view.filters[k] = v;
  }
  closeDetail();
  load(false);
}

export function hideEvents() {
  view.active = false;
}

async function load(append) {
  const token = ++view.load;
  const more = document.getElementById('events-more');
  more.disabled = true;
  let page;
  try {
    page = await getJSON('api/events', {...view.filters, limit: PAGE, cursor: append ? view.next : ''});
  } catch (err) {
    if (token === view.load) {
      view.onError(err);
      more.disabled = false;
    }
    return;
  }
  if (token !== view.load) return;
  if (!append) {
    view.rows = [];
    view.ids.clear();
    view.pending.api.clear();
    view.pending.live.clear();
    replace(document.querySelector('#events-table tbody'));
  }
  const tbody = document.querySelector('#events-table tbody');
  const now = Date.now();
  for (const ev of page.events) {
    if (!fromAPI(ev, now)) continue;
    const tr = row(ev, false);
    tbody.append(tr);
    view.rows.push({ev, tr});
  }
  view.next = page.next || '';
  more.hidden = !view.next;
  more.disabled = false;
  summarise();
}

function summarise() {
  const n = view.rows.length;
  const f = Object.entries(view.filters).map(([k, v]) => `${k} ${v}`).join(', ');
  document.getElementById('events-summary').textContent =
    `${n} event${n === 1 ? '' : 's'} shown, newest first${f ? ' (' + f + ')' : ''}` +
    `${view.next ? '; older ones on the next page' : ''}. New events appear at the top as they arrive.`;
  document.getElementById('events-empty').hidden = n > 0;
}

function row(ev, isNew) {
  if (ev.component) view.components.add(ev.component);
  const tr = el('tr', {class: isNew ? 'new' : null, 'data-level': ev.level || 'none', 'data-host': ev.host || '',
    'data-rule': ev.rule || '', 'data-selected': 'false'},
    el('td', {class: 'time', text: ev.time ? fmtTime(ev.time) : '(no time)'}),
    el('td', null, hostLink(ev.host)),
    el('td', null, ev.assert === false ? clearedBadge() : (ev.level ? levelBadge(ev.level) : '')),
    el('td', {text: ev.component || ''}),
    el('td', {text: ev.title || (ev.source === 'unparsed' ? '(not parsed)' : '')}),
    el('td', {class: 'msg'}, clippedText(ev.message || ev.raw, ev.clipped)),
    el('td', null, el('button', {type: 'button', class: 'linklike details', 'aria-label': 'Details of this event',
      text: 'Details', onclick: (e) => { e.stopPropagation(); showDetail(ev, tr); }})),
  );
  tr.addEventListener('click', (e) => {
    if (e.target.closest('a, button')) return; // the host link leads elsewhere; "Show all" unfolds
    showDetail(ev, tr);
  });
  return tr;
}

// knownComponents lists the components seen so far, for the filter's suggestions.
export function knownComponents() {
  return [...view.components].sort();
}

// parseSince reads the API's relative times ("90m", "24h", "7d") and absolute ones.
function sinceMs(s, now) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(s);
  if (m) {
    const unit = {ms: 1, s: 1e3, m: 6e4, h: 36e5, d: 864e5}[m[2]];
    return now - Number(m[1]) * unit;
  }
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : t;
}

// matches applies the filters to a live event as the store would.
function matches(ev) {
  const f = view.filters;
  if (f.until) return false; // a window that ends: live events are after it
  if (f.host && ev.host !== f.host) return false;
  if (f.component && ev.component !== f.component) return false;
  if (f.level && levelRank(ev.level) < levelRank(f.level)) return false;
  if (f.q) {
    const q = f.q.toLowerCase();
    if (!(ev.message || '').toLowerCase().includes(q) && !(ev.raw || '').toLowerCase().includes(q)) return false;
  }
  if (f.since) {
    const t0 = sinceMs(f.since, Date.now());
    if (t0 !== null && ev.time && Date.parse(ev.time) < t0) return false;
  }
  return true;
}

// liveEvents adds a batch's events that match the filters on top of the timeline.
export function liveEvents(events) {
  if (!view.active) return;
  const tbody = document.querySelector('#events-table tbody');
  const now = Date.now();
  let added = 0;
  for (const ev of events) {
    if (!matches(ev) || !fromStream(ev, now)) continue;
    const tr = row(ev, true);
    tbody.prepend(tr);
    view.rows.unshift({ev, tr});
    added++;
  }
  trim(now);
  if (added) summarise();
}

// trim keeps the timeline within MAX_ROWS, the oldest rows going first.
function trim(now) {
  while (view.rows.length > MAX_ROWS) {
    const old = view.rows.pop();
    old.tr.remove();
    if (old.ev.id !== undefined) view.ids.delete(old.ev.id);
  }
  prune(view.pending.api, now);
  prune(view.pending.live, now);
}

function dlRow(dl, name, value) {
  if (value === undefined || value === null || value === '') return;
  const text = String(value);
  // A long value scrolls in its box, which the keyboard must reach.
  const long = text.length > 400;
  dl.append(el('dt', {text: name}), el('dd', long ? null : {text},
    long ? el('div', {class: 'box', tabindex: 0, role: 'region', 'aria-label': name, text}) : null));
}

// showDetail shows every field of an event and its rule's meaning and action; an event
// the listing clipped is read whole (its raw line shown in a box of bounded height).
async function showDetail(ev, tr) {
  const token = ++view.detail;
  if (ev.clipped && ev.id !== undefined) {
    try {
      const whole = await getJSON('api/events/' + encodeURIComponent(ev.id));
      if (token !== view.detail) return;
      ev = whole.event;
    } catch (err) {
      if (token === view.detail) view.onError(err);
    }
  }
  for (const r of view.rows) r.tr.setAttribute('data-selected', r.tr === tr ? 'true' : 'false');
  document.querySelector('.events-layout').classList.add('with-detail');
  const aside = document.getElementById('event-detail');
  aside.hidden = false;
  document.getElementById('detail-title').textContent = ev.title || ev.rule || 'Event';

  const dl = document.getElementById('detail-fields');
  replace(dl);
  dlRow(dl, 'Time (UTC)', fmtTime(ev.time));
  dlRow(dl, 'Time as written', ev.time);
  dlRow(dl, 'Site', ev.site);
  dlRow(dl, 'Host', ev.host);
  dlRow(dl, 'Level', ev.level);
  dlRow(dl, 'Component', ev.component);
  dlRow(dl, 'Class', ev.class);
  dlRow(dl, 'Rule', ev.rule);
  dlRow(dl, 'Notification', ev.notification);
  if (ev.assert !== undefined) dlRow(dl, 'Alarm', ev.assert ? 'assert (raises)' : 'de-assert (clears)');
  dlRow(dl, 'Cleared alarm', ev.cleared);
  if (ev.test) dlRow(dl, 'Trap test', 'yes: says nothing about the hardware');
  dlRow(dl, 'Source', ev.source);
  dlRow(dl, 'Facility', ev.facility);
  dlRow(dl, 'Severity', ev.severity);
  dlRow(dl, 'Process', ev.process ? ev.process + (ev.pid ? `[${ev.pid}]` : '') : '');
  for (const [k, v] of Object.entries(ev.fields || {})) dlRow(dl, k, v);
  dlRow(dl, 'Input', ev.input);
  dlRow(dl, 'Not parsed because', ev.reason);
  dlRow(dl, 'Message', ev.message);
  document.getElementById('detail-raw').textContent = ev.raw || '';

  const meaning = document.getElementById('detail-meaning');
  const action = document.getElementById('detail-action');
  if (!ev.rule) {
    meaning.textContent = 'No catalog rule matched this event: it has no documented meaning.';
    action.textContent = ev.source === 'unparsed'
      ? 'Read the raw line: hsmwatch could not parse it, and something may be hidden in it.'
      : 'Nothing is documented; judge from the message.';
    return;
  }
  meaning.textContent = 'Loading the rule…';
  action.textContent = '';
  let rule;
  try {
    rule = await getRule(ev.rule);
  } catch (err) {
    if (token === view.detail) meaning.textContent = `The rule could not be read: ${err.message}`;
    return;
  }
  if (token !== view.detail) return;
  if (!rule) {
    meaning.textContent = `The catalog loaded now has no rule ${ev.rule} (it was reloaded since).`;
    return;
  }
  meaning.textContent = rule.meaning || 'The rule documents no meaning.';
  action.textContent = rule.action || 'The rule documents no action.';
}

function closeDetail() {
  view.detail++;
  document.getElementById('event-detail').hidden = true;
  document.querySelector('.events-layout').classList.remove('with-detail');
  for (const r of view.rows) r.tr.setAttribute('data-selected', 'false');
}

// catchUpEvents adds on top the newest events not shown yet (after the stream reopened,
// or missed batches), without disturbing the pages and the detail already open.
export async function catchUpEvents() {
  if (!view.active || view.filters.until) return;
  const token = view.load; // a full load started meanwhile wins
  let page;
  try {
    page = await getJSON('api/events', {...view.filters, limit: PAGE});
  } catch (err) {
    view.onError(err);
    return;
  }
  if (token !== view.load || !view.active) return;
  const tbody = document.querySelector('#events-table tbody');
  const now = Date.now();
  for (const ev of [...page.events].reverse()) { // oldest first, each on top
    if (!fromAPI(ev, now)) continue;
    const tr = row(ev, true);
    tbody.prepend(tr);
    view.rows.unshift({ev, tr});
  }
  trim(now);
  summarise();
}
