// The fleet: one card per HSM with its state (the worst open alarm), its open alarms, its
// events by level, and its key figures from the latest poll with a sparkline of the last
// 24 hours.

import {el, replace, hostLink} from './dom.js';
import {LEVELS, levelRank, worstLevel, fmtTime, age, fmtValue, figureRank, isKeyFigure, seriesKey, seriesName} from './format.js';
import {sparkline} from './charts.js';
import {levelBadge} from './alarms.js';

export const SPARK_WINDOW_MS = 24 * 3600 * 1000;
const MAX_FIGURES = 4;

// hsmID names an HSM of a site.
export function hsmID(h) {
  return `${h.site}\u0000${h.host}`;
}

// groupSeries turns a host's samples (oldest first) into points by series key.
export function groupSeries(samples) {
  const out = new Map();
  for (const s of samples) {
    const k = seriesKey(s);
    if (!out.has(k)) out.set(k, []);
    out.get(k).push({t: Date.parse(s.time), v: s.value});
  }
  return out;
}

// keyFigures picks the latest samples to show on a card: one series per kind (memory,
// storage, sessions, temperature, battery, load), the poller's derived health figure of
// that kind (a percentage with thresholds) before the raw counters it comes from; never
// the health_state codes.
export function keyFigures(latest) {
  const best = new Map();
  const sorted = (latest || [])
    .filter((s) => s.metric !== 'health_state' && isKeyFigure(s.metric))
    .sort((a, b) => derivedFirst(a) - derivedFirst(b) || seriesName(a).localeCompare(seriesName(b)));
  for (const s of sorted) {
    const kind = figureRank(s.metric);
    if (!best.has(kind)) best.set(kind, s);
  }
  return [...best.entries()].sort((a, b) => a[0] - b[0]).map(([, s]) => s).slice(0, MAX_FIGURES);
}

function derivedFirst(s) {
  return s.metric.startsWith('health_') ? 0 : 1;
}

function card(h, alarms, history, now) {
  const worst = worstLevel(alarms.map((a) => a.level));
  const state = alarms.length === 0 ? 'ok' : (worst || 'none');
  const levels = el('p', {class: 'levels', 'aria-label': 'Stored events by level'});
  for (const l of [...LEVELS, 'none']) {
    const n = (h.events || {})[l];
    if (n) levels.append(el('span', {class: `badge ${l}`, title: `${n} ${l} events`, text: `${l} ${n}`}));
  }
  const figures = keyFigures(h.samples);
  let figs = null;
  if (figures.length > 0) {
    figs = el('ul', {class: 'figures', 'aria-label': 'Key figures'});
    for (const s of figures) {
      const pts = (history?.get(seriesKey(s)) || []).filter((p) => p.t >= now - SPARK_WINDOW_MS);
      // From the first sample of the window: a host polled for an hour gets a readable line.
      const from = pts.length ? pts[0].t : now - SPARK_WINDOW_MS;
      figs.append(el('li', {class: 'figure', 'data-metric': s.metric},
        el('span', {class: 'name', text: seriesName(s)}),
        el('span', {class: 'value', text: fmtValue(s.value, s.metric)}),
        sparkline(pts, {label: `${seriesName(s)} since ${fmtTime(new Date(from).toISOString())} UTC`, from, to: now})));
    }
  }
  return el('article', {class: 'card', 'data-host': h.host, 'data-site': h.site, 'data-level': state},
    el('h3', null, hostLink(h.host), el('span', {class: 'site', text: h.site}),
      state === 'ok' ? el('span', {class: 'badge ok', text: 'ok'}) : levelBadge(worst)),
    el('p', {class: 'alarms-count', text: alarms.length === 1 ? '1 open alarm' : `${alarms.length} open alarms`}),
    h.last_event ? el('p', {class: 'hint', text: `Last event ${fmtTime(h.last_event)} UTC (${age(h.last_event, now)} ago)`}) : null,
    levels, figs);
}

// renderFleet draws the cards: HSMs with open alarms first (most serious first), then by
// name.
export function renderFleet(hsms, openAlarms, histories) {
  const now = Date.now();
  const byHost = new Map();
  for (const a of openAlarms) {
    const k = `${a.site}\u0000${a.host}`;
    if (!byHost.has(k)) byHost.set(k, []);
    byHost.get(k).push(a);
  }
  const rows = hsms.map((h) => ({h, alarms: byHost.get(`${h.site}\u0000${h.host}`) || []}));
  const rank = (r) => r.alarms.length ? 1 + levelRank(worstLevel(r.alarms.map((a) => a.level))) : 0;
  rows.sort((a, b) => rank(b) - rank(a) || a.h.host.localeCompare(b.h.host) || a.h.site.localeCompare(b.h.site));
  replace(document.getElementById('fleet-cards'), rows.map((r) => card(r.h, r.alarms, histories.get(hsmID(r.h)), now)));
  document.getElementById('fleet-empty').hidden = hsms.length > 0;
}
