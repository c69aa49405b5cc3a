// The dashboard's entry point: the views (#/fleet, #/alarms, #/events?filters,
// #/hsm/NAME?range=24h), the data they share (the fleet and its alarms, reloaded from the
// JSON API), and the live stream that keeps them current without a reload.

import {el, replace} from './dom.js';
import {getJSON} from './api.js';
import {connectLive} from './live.js';
import {renderFleet, groupSeries, hsmID, SPARK_WINDOW_MS} from './fleet.js';
import {loadFigures, pickFigures} from './figures.js';
import {renderAlarms, alarmID, setupAlarms} from './alarms.js';
import {setupEvents, showEvents, hideEvents, liveEvents, catchUpEvents, knownComponents} from './events.js';
import {showHSM, renderHeader, setupHSM} from './hsm.js';

const REFRESH_AFTER_LIVE_MS = 750; // batches arriving together cause one reload
const HISTORY_MAX_AGE_MS = 60e3;   // sparklines are reloaded at most once a minute
const RECENT_ALARMS = 100;

const state = {
  hsms: [],
  open: [],
  cleared: [],
  silences: [],
  maintenance: [],
  figures: null, // the curated figure table (api/figures)
  histories: new Map(), // hsmID -> Map(seriesKey -> points)
  historiesAt: 0,
  route: {view: 'fleet', arg: '', params: {}},
  refreshTimer: null,
  loaded: false,
};

function showError(err) {
  const p = document.getElementById('error');
  p.textContent = err ? String(err.message || err) : '';
  p.hidden = !err;
}

// parseRoute reads the address: #/view/arg?params.
function parseRoute(hash) {
  const [path, query = ''] = hash.replace(/^#\/?/, '').split('?');
  const [view = '', ...rest] = path.split('/');
  let arg = '';
  try {
    arg = decodeURIComponent(rest.join('/'));
  } catch {
    arg = rest.join('/');
  }
  return {view: ['fleet', 'alarms', 'events', 'hsm'].includes(view) ? view : 'fleet', arg,
    params: Object.fromEntries(new URLSearchParams(query))};
}

function route() {
  if (location.hash && !location.hash.startsWith('#/')) return; // an in-page link (skip link)
  const r = parseRoute(location.hash);
  state.route = r;
  for (const v of ['fleet', 'alarms', 'events', 'hsm']) {
    document.getElementById('view-' + v).hidden = v !== r.view;
  }
  for (const a of document.querySelectorAll('.top nav a')) {
    if (a.dataset.view === r.view) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `hsmwatch: ${r.view === 'hsm' ? r.arg : r.view}`;
  showError(null);
  if (r.view === 'events') showEvents(r.params);
  else hideEvents();
  if (r.view === 'hsm') showHSM(r.arg, r.params, state, showError);
  render();
}

// render redraws the views that show the shared data.
function render() {
  if (!state.loaded) return;
  const v = state.route.view;
  if (v === 'fleet') renderFleet(state.hsms, state.open, state.histories, state.figures);
  if (v === 'alarms') renderAlarms(state.open, state.cleared, state.silences, state.maintenance);
  if (v === 'hsm') renderHeader(state.route.arg, state);
  replace(document.getElementById('known-hosts'), state.hsms.map((h) => el('option', {value: h.host})));
  replace(document.getElementById('known-components'), knownComponents().map((c) => el('option', {value: c})));
}

// loadShared reloads the fleet and the alarms, and the sparklines when they are old.
async function loadShared() {
  try {
    const [figures, hsms, open, recent, silences, maintenance] = await Promise.all([
      loadFigures(),
      getJSON('api/hsms'),
      getJSON('api/alarms', {open: true}),
      getJSON('api/alarms', {open: false, limit: RECENT_ALARMS}),
      // A server that records no operator actions answers 501: no silences then.
      getJSON('api/silences').catch(() => ({silences: []})),
      getJSON('api/maintenance').catch(() => ({maintenance: []})),
    ]);
    state.figures = figures;
    state.silences = silences.silences;
    state.maintenance = maintenance.maintenance;
    state.hsms = hsms.hsms;
    state.open = open.alarms;
    state.cleared = recent.alarms.filter((a) => a.cleared);
    state.loaded = true;
    if (Date.now() - state.historiesAt > HISTORY_MAX_AGE_MS) await loadHistories();
    render();
  } catch (err) {
    showError(err);
  }
}

// loadHistories reads the last 24 hours of each card's curated figures (one metric per
// request: an HSM's other series would crowd them out of the answer's limit).
async function loadHistories() {
  const since = new Date(Date.now() - SPARK_WINDOW_MS).toISOString();
  const wanted = [];
  for (const h of state.hsms) {
    for (const f of pickFigures(state.figures, h)) {
      if (!f.fig.words) wanted.push({h, metric: f.sample.metric});
    }
  }
  const unique = [...new Map(wanted.map((w) => [hsmID(w.h) + '\u0000' + w.metric, w])).values()];
  const bodies = await Promise.all(unique.map((w) =>
    getJSON('api/samples', {host: w.h.host, site: w.h.site, metric: w.metric, since, limit: 5000})));
  const histories = new Map();
  unique.forEach((w, i) => {
    const id = hsmID(w.h);
    if (!histories.has(id)) histories.set(id, new Map());
    for (const [k, pts] of groupSeries(bodies[i].samples)) histories.get(id).set(k, pts);
  });
  state.histories = histories;
  state.historiesAt = Date.now();
}

function scheduleRefresh() {
  if (state.refreshTimer !== null) return;
  state.refreshTimer = setTimeout(() => {
    state.refreshTimer = null;
    loadShared();
  }, REFRESH_AFTER_LIVE_MS);
}

// applyAlarms updates the alarm lists at once from the stream; the reload that follows
// brings the stored view (row ids, merged restarts).
function applyAlarms(alarms) {
  for (const a of alarms) {
    const id = alarmID(a);
    // The stream carries the tracker's view: the stored row's id and the operators'
    // marks are kept from the list until it reloads.
    const prev = state.open.find((x) => alarmID(x) === id && x.opened === a.opened);
    if (prev && !a.cleared) {
      for (const k of ['id', 'acknowledged', 'silenced', 'stale']) if (prev[k] !== undefined) a[k] = prev[k];
    }
    state.open = state.open.filter((x) => alarmID(x) !== id);
    if (a.cleared) {
      state.cleared = [a, ...state.cleared.filter((x) => !(alarmID(x) === id && x.opened === a.opened))].slice(0, RECENT_ALARMS);
    } else {
      state.open.push(a);
    }
  }
}

function start() {
  setupEvents(showError);
  setupAlarms({changed: loadShared, redraw: render, showError});
  setupHSM({changed: loadShared});
  document.getElementById('fleet-search').addEventListener('input', render);
  window.addEventListener('hashchange', route);
  route();
  connectLive(document.getElementById('live-status'), {
    // What happened while the stream was closed (or before it first opened) is read
    // from the API.
    onOpen: () => {
      loadShared();
      catchUpEvents();
    },
    onGap: () => {
      loadShared();
      catchUpEvents();
    },
    onBatch: (b) => {
      liveEvents(b.events);
      if (b.alarms.length) {
        applyAlarms(b.alarms);
        render();
      }
      scheduleRefresh();
    },
  });
  loadShared();
}

start();
