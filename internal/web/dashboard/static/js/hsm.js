// An HSM's page, in the order an operator reads it: its open alarms first, each with what
// it means and what to do (the catalog rule), its evidence and the operators' actions,
// with the buttons to acknowledge, silence or close it; then the curated health panels of
// its kind (units, threshold lines); then every figure its polls give, folded under "All
// figures"; then its recent events.

import {el, replace} from './dom.js';
import {worstLevel, fmtTime, fmtValue, labelText, figureRank, seriesName, shortAge, describeAlarm} from './format.js';
import {getJSON, getRule, sendJSON, savedActor, saveActor, getSession} from './api.js';
import {lineChart} from './charts.js';
import {levelBadge, sortOpen, stateTags, evidenceList, clippedText} from './alarms.js';
import {loadFigures, kindOf, kindBySamples, fmtFigure, wordOf} from './figures.js';

export const RANGES = [['1h', 3600e3], ['6h', 6 * 3600e3], ['24h', 24 * 3600e3], ['7d', 7 * 86400e3], ['30d', 30 * 86400e3]];

const view = {host: null, load: 0, pending: null, changed: async () => {}};

// showHSM draws the page of host; state holds the fleet and its open alarms.
export async function showHSM(host, params, state, onError) {
  const token = ++view.load;
  view.host = host;
  const range = RANGES.find(([name]) => name === params.range) || RANGES[2];
  renderHeader(host, state);
  replace(document.getElementById('hsm-ranges'), RANGES.map(([name]) => el('a', {
    href: `#/hsm/${encodeURIComponent(host)}?range=${name}`, 'aria-current': name === range[0] ? 'true' : 'false', text: name})));
  document.getElementById('hsm-events-link').setAttribute('href', '#/events?host=' + encodeURIComponent(host));
  // #/hsm/NAME?all=1 is a link to the page with every figure unfolded.
  if (params.all === '1') document.getElementById('hsm-all').open = true;

  const now = Date.now();
  let samples, events, tbl;
  try {
    [samples, events, tbl] = await Promise.all([
      getJSON('api/samples', {host, since: range[0], limit: 50000}),
      getJSON('api/events', {host, limit: 10}),
      loadFigures(),
    ]);
  } catch (err) {
    if (token === view.load) onError(err);
    return;
  }
  if (token !== view.load) return;
  const h = state.hsms.find((x) => x.host === host);
  renderCharts(samples, now - range[1], now, tbl, h);
  replace(document.getElementById('hsm-events'), events.events.map((e) => el('li', {'data-level': e.level || 'none'},
    el('span', {class: 'time', text: fmtTime(e.time) + ' '}),
    e.assert === false ? el('span', {class: 'badge cleared', text: 'cleared'}) : e.level ? levelBadge(e.level) : '', ' ',
    e.title ? el('strong', {text: e.title + ': '}) : '', clippedText(e.message || e.raw, e.clipped))));
}

function alarmItem(a, now) {
  const what = describeAlarm(a);
  const meaning = el('dd', {class: 'meaning', text: a.rule ? 'Loading the rule…' : 'No catalog rule: judge from the message.'});
  const action = el('dd', {class: 'action', text: ''});
  if (a.rule) {
    getRule(a.rule).then((r) => {
      meaning.textContent = r?.meaning || 'The rule documents no meaning.';
      action.textContent = r?.action || 'The rule documents no action.';
    }).catch((err) => {
      meaning.textContent = `The rule could not be read: ${err.message}`;
    });
  }
  const off = a.id === undefined;
  const button = (verb, text) => el('button', {type: 'button', class: verb, 'data-action': verb, 'data-id': a.id, disabled: off,
    'aria-label': `${text}: ${a.host}, ${what}`, text});
  return el('li', {class: 'alarm', 'data-id': a.id, 'data-level': a.level || 'none', 'data-key': a.key},
    el('div', {class: 'alarm-head'}, levelBadge(a.level), ' ', el('strong', {class: 'what', text: what}),
      el('span', {class: 'age', text: `, ${shortAge(now - Date.parse(a.opened))}`, title: `opened ${fmtTime(a.opened)} UTC`}),
      ' ', stateTags(a)),
    el('p', {class: 'title', text: `${a.title || a.rule}${a.asserts > 1 ? `, asserted ${a.asserts} times` : ''}; opened ${fmtTime(a.opened)} UTC`}),
    el('div', {class: 'msg'}, clippedText(a.message || '', false)),
    el('dl', {class: 'rule'}, el('dt', {text: 'What it means'}), meaning, el('dt', {text: 'What to do'}), action),
    evidenceList(a),
    el('div', {class: 'buttons'}, button('ack', a.acknowledged ? 'Acknowledge again' : 'Acknowledge'),
      button('silence', 'Silence'), button('close', 'Close')));
}

// renderHeader redraws what comes from the fleet's state (after a live update).
export function renderHeader(host, state) {
  const now = Date.now();
  const h = state.hsms.find((x) => x.host === host);
  const alarms = sortOpen(state.open.filter((a) => a.host === host));
  const worst = worstLevel(alarms.map((a) => a.level));
  document.getElementById('hsm-name').textContent = host;
  const badge = document.getElementById('hsm-state');
  badge.className = `badge ${alarms.length ? (worst || 'none') : 'ok'}`;
  badge.textContent = alarms.length ? (worst || 'alarm') : 'ok';
  const sites = [...new Set(state.hsms.filter((x) => x.host === host).map((x) => x.site))];
  const kind = h && state.figures ? kindOf(state.figures, h)?.label : '';
  document.getElementById('hsm-summary').textContent = h
    ? `${kind ? kind + ', s' : 'S'}ite ${sites.join(', ')}. Last event ${h.last_event ? fmtTime(h.last_event) + ' UTC' : 'never'}.`
    : 'This HSM has no stored events, alarms or samples.';
  document.getElementById('hsm-alarms-count').textContent = `(${alarms.length})`;
  // The list is redrawn on every live batch; an open action form keeps its alarm.
  replace(document.getElementById('hsm-alarms'), alarms.map((a) => alarmItem(a, now)));
  document.getElementById('hsm-alarms-empty').hidden = alarms.length > 0;
  const words = state.figures?.words || {};
  const latest = [...(h?.samples || [])].sort((a, b) =>
    figureRank(a.metric) - figureRank(b.metric) || seriesName(a).localeCompare(seriesName(b)));
  replace(document.querySelector('#hsm-latest tbody'), latest.map((s) => el('tr', null,
    el('td', {text: s.metric}), el('td', {text: labelText(s.labels)}),
    el('td', {text: rawValue(words[s.metric], s.value, s.metric)}), el('td', {class: 'time', text: fmtTime(s.time)}))));
}

// rawValue writes a raw figure: a state or TruthValue as its word with its number.
function rawValue(words, v, metric) {
  const w = wordOf(words, v);
  return w ? `${w} (${v})` : fmtValue(v, metric);
}

// seriesOf groups samples of one metric by label set.
function seriesOf(samples, name) {
  const series = new Map();
  for (const s of samples) {
    const k = labelText(s.labels);
    if (!series.has(k)) series.set(k, {name: k || name, points: []});
    series.get(k).points.push({t: Date.parse(s.time), v: s.value});
  }
  return [...series.values()].sort((a, b) => a.name.localeCompare(b.name));
}

// renderCharts draws the kind's health panels, then one chart per metric under "All
// figures". The time axis starts at the range's start or at the first sample held,
// whichever is later: an HSM polled for ten minutes is not drawn as a line squeezed
// against the right edge of a day.
function renderCharts(body, from, to, tbl, h) {
  const byMetric = new Map();
  const first = Math.min(...body.samples.map((s) => Date.parse(s.time)));
  if (Number.isFinite(first) && first > from && first < to) from = first;
  for (const s of body.samples) {
    if (!byMetric.has(s.metric)) byMetric.set(s.metric, []);
    byMetric.get(s.metric).push(s);
  }
  const kind = (h && kindOf(tbl, h)) || kindBySamples(tbl, body.samples);
  const panels = [];
  for (const fig of kind?.figures || []) {
    const m = fig.metrics.find((x) => byMetric.has(x));
    if (!m) continue;
    const thresholds = [];
    const side = fig.below ? 'below' : 'above';
    if (fig.warn !== undefined) thresholds.push({v: fig.warn, cls: 'warn', label: `warning ${side} ${fmtFigure({unit: fig.unit}, fig.warn)}`});
    if (fig.crit !== undefined) thresholds.push({v: fig.crit, cls: 'crit', label: `critical ${side} ${fmtFigure({unit: fig.unit}, fig.crit)}`});
    const title = fig.unit ? `${fig.label} (${fig.unit})` : fig.label;
    panels.push(el('div', {class: 'chart-wrap', 'data-figure': fig.id, 'data-metric': m},
      lineChart(title, seriesOf(byMetric.get(m), title), {from, to, thresholds, words: fig.words, max: fig.max,
        fmt: (v) => fmtFigure(fig, v)})));
  }
  replace(document.getElementById('hsm-panels'), panels);
  document.getElementById('hsm-panels-empty').hidden = panels.length > 0;

  const words = tbl.words || {};
  const derived = (m) => (m.startsWith('health_') ? 0 : 1);
  const metrics = [...byMetric.keys()].sort((a, b) =>
    figureRank(a) - figureRank(b) || derived(a) - derived(b) || a.localeCompare(b));
  const charts = metrics.map((m) => el('div', {class: 'chart-wrap', 'data-metric': m},
    lineChart(m, seriesOf(byMetric.get(m), m), {from, to, words: words[m], fmt: (v) => fmtValue(v, m), binary: /bytes/i.test(m)})));
  replace(document.getElementById('hsm-charts'), charts);
  document.getElementById('hsm-all-count').textContent = `(${metrics.length} metrics)`;
  document.getElementById('hsm-charts-empty').hidden = charts.length > 0;
  if (body.truncated) {
    document.getElementById('hsm-panels').prepend(el('p', {class: 'hint', text: 'Only the newest samples of this range are drawn: choose a shorter range to see all of them.'}));
  }
}

// setupHSM binds the alarm buttons of the page and its action form once; changed()
// reloads the shared data.
export function setupHSM({changed}) {
  view.changed = changed;
  const form = document.getElementById('hsm-action');
  const comment = document.getElementById('hsm-action-comment');
  const actorInput = document.getElementById('hsm-actor');
  const duration = document.getElementById('hsm-action-duration');
  actorInput.value = savedActor();
  getSession().then((s) => {
    if (!s.authenticated) return;
    actorInput.value = s.user;
    actorInput.readOnly = true;
  }).catch(() => {});
  const showErr = (err) => {
    const p = document.getElementById('hsm-action-error');
    p.textContent = err ? String(err.message || err) : '';
    p.hidden = !err;
  };
  const close = () => {
    form.hidden = true;
    showErr(null);
    const p = view.pending;
    view.pending = null;
    const again = p && document.querySelector(`#hsm-alarms li[data-id="${p.id}"] button[data-action="${p.verb}"]`);
    (again || document.getElementById('hsm-alarms-heading')).focus();
  };
  document.getElementById('hsm-alarms').addEventListener('click', (e) => {
    const b = e.target.closest('button[data-action]');
    if (!b || b.disabled) return;
    const li = b.closest('li');
    view.pending = {id: b.dataset.id, verb: b.dataset.action, rule: '', what: li.querySelector('.what').textContent};
    const verbs = {ack: 'Acknowledge', silence: 'Silence', close: 'Close by hand'};
    document.getElementById('hsm-action-title').textContent = `${verbs[view.pending.verb]}: ${view.pending.what}`;
    document.getElementById('hsm-action-submit').textContent = verbs[view.pending.verb];
    document.getElementById('hsm-action-alarm').textContent = {
      ack: 'Says that someone is on it: the alarm stays open until it clears; its repeats reach only the sinks that keep alarm state.',
      silence: 'Stops the notifications of this rule for this HSM for a while; the events are still stored and shown.',
      close: 'For an alarm that will never see its clear; a later assert opens a new alarm.',
    }[view.pending.verb];
    document.getElementById('hsm-duration-label').hidden = view.pending.verb !== 'silence';
    comment.value = '';
    comment.required = view.pending.verb === 'close';
    showErr(null);
    form.hidden = false;
    (actorInput.value.trim() ? comment : actorInput).focus();
  });
  document.getElementById('hsm-action-cancel').addEventListener('click', close);
  form.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') close();
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const p = view.pending;
    if (!p) return;
    const who = actorInput.value.trim();
    if (!who) {
      showErr('Give your name: it is recorded with the action.');
      actorInput.focus();
      return;
    }
    saveActor(who);
    try {
      if (p.verb === 'silence') {
        const a = (await getJSON('api/alarms', {host: view.host})).alarms.find((x) => String(x.id) === p.id);
        if (!a) throw new Error('the alarm is no longer open');
        await sendJSON('POST', 'api/silences', {host: a.host, rule: a.rule, duration: duration.value.trim(), comment: comment.value}, who);
      } else {
        await sendJSON('POST', `api/alarms/${encodeURIComponent(p.id)}/${p.verb}`, {comment: comment.value}, who);
      }
      await view.changed();
      close();
    } catch (err) {
      showErr(err);
    }
  });
}
