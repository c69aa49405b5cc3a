// An HSM's page: its state, charts over time of every series its polls give (memory,
// storage, sessions, temperatures first), open alarms, latest values and recent events.

import {el, replace} from './dom.js';
import {worstLevel, fmtTime, fmtValue, labelText, figureRank, seriesKey, seriesName} from './format.js';
import {getJSON} from './api.js';
import {lineChart} from './charts.js';
import {levelBadge, sortOpen} from './alarms.js';

export const RANGES = [['1h', 3600e3], ['6h', 6 * 3600e3], ['24h', 24 * 3600e3], ['7d', 7 * 86400e3], ['30d', 30 * 86400e3]];

const view = {host: null, load: 0};

// showHSM draws the page of host; state holds the fleet and its open alarms.
export async function showHSM(host, params, state, onError) {
  const token = ++view.load;
  view.host = host;
  const range = RANGES.find(([name]) => name === params.range) || RANGES[2];
  renderHeader(host, state);
  replace(document.getElementById('hsm-ranges'), RANGES.map(([name]) => el('a', {
    href: `#/hsm/${encodeURIComponent(host)}?range=${name}`, 'aria-current': name === range[0] ? 'true' : 'false', text: name})));
  document.getElementById('hsm-events-link').setAttribute('href', '#/events?host=' + encodeURIComponent(host));

  const now = Date.now();
  let samples, events;
  try {
    [samples, events] = await Promise.all([
      getJSON('api/samples', {host, since: range[0], limit: 50000}),
      getJSON('api/events', {host, limit: 10}),
    ]);
  } catch (err) {
    if (token === view.load) onError(err);
    return;
  }
  if (token !== view.load) return;
  renderCharts(samples, now - range[1], now);
  replace(document.getElementById('hsm-events'), events.events.map((e) => el('li', null,
    el('span', {class: 'time', text: fmtTime(e.time) + ' '}), e.level ? levelBadge(e.level) : '', ' ',
    e.title ? el('strong', {text: e.title + ': '}) : '', e.message || e.raw)));
}

// renderHeader redraws what comes from the fleet's state (after a live update).
export function renderHeader(host, state) {
  const h = state.hsms.find((x) => x.host === host);
  const alarms = sortOpen(state.open.filter((a) => a.host === host));
  const worst = worstLevel(alarms.map((a) => a.level));
  document.getElementById('hsm-name').textContent = host;
  const badge = document.getElementById('hsm-state');
  badge.className = `badge ${alarms.length ? (worst || 'none') : 'ok'}`;
  badge.textContent = alarms.length ? (worst || 'alarm') : 'ok';
  const sites = [...new Set(state.hsms.filter((x) => x.host === host).map((x) => x.site))];
  document.getElementById('hsm-summary').textContent = h
    ? `Site ${sites.join(', ')}. Last event ${h.last_event ? fmtTime(h.last_event) + ' UTC' : 'never'}; ` +
      `${alarms.length} open alarm${alarms.length === 1 ? '' : 's'}.`
    : 'This HSM has no stored events, alarms or samples.';
  replace(document.getElementById('hsm-alarms'), alarms.map((a) => el('li', {'data-level': a.level},
    levelBadge(a.level), ' ', el('strong', {text: a.title || a.rule}), ` (${a.key}) since ${fmtTime(a.opened)} UTC`,
    a.flapping ? el('span', {class: 'tag', text: 'flapping'}) : '')));
  document.getElementById('hsm-alarms-empty').hidden = alarms.length > 0;
  const latest = [...(h?.samples || [])].sort((a, b) =>
    figureRank(a.metric) - figureRank(b.metric) || seriesName(a).localeCompare(seriesName(b)));
  replace(document.querySelector('#hsm-latest tbody'), latest.map((s) => el('tr', null,
    el('td', {text: s.metric}), el('td', {text: labelText(s.labels)}),
    el('td', {text: fmtValue(s.value, s.metric)}), el('td', {class: 'time', text: fmtTime(s.time)}))));
}

// renderCharts draws one chart per metric, a line per label set. The time axis starts
// at the range's start or at the first sample held, whichever is later: an HSM polled
// for ten minutes is not drawn as a line squeezed against the right edge of a day.
function renderCharts(body, from, to) {
  const byMetric = new Map();
  const first = Math.min(...body.samples.map((s) => Date.parse(s.time)));
  if (Number.isFinite(first) && first > from && first < to) from = first;
  for (const s of body.samples) {
    if (!byMetric.has(s.metric)) byMetric.set(s.metric, new Map());
    const series = byMetric.get(s.metric);
    const k = seriesKey(s);
    if (!series.has(k)) series.set(k, {name: labelText(s.labels) || s.metric, points: []});
    series.get(k).points.push({t: Date.parse(s.time), v: s.value});
  }
  const derived = (m) => (m.startsWith('health_') ? 0 : 1);
  const metrics = [...byMetric.keys()].sort((a, b) => figureRank(a) - figureRank(b) || derived(a) - derived(b) || a.localeCompare(b));
  const figures = metrics.map((m) => {
    const series = [...byMetric.get(m).values()].sort((a, b) => a.name.localeCompare(b.name));
    return el('div', {class: 'chart-wrap', 'data-metric': m}, lineChart(m, series, {from, to, metric: m}));
  });
  replace(document.getElementById('hsm-charts'), figures);
  const empty = document.getElementById('hsm-charts-empty');
  empty.hidden = figures.length > 0;
  if (body.truncated) {
    document.getElementById('hsm-charts').prepend(el('p', {class: 'hint', text: 'Only the newest samples of this range are drawn: choose a shorter range to see all of them.'}));
  }
}
