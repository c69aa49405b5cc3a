// The curated health figures of an HSM, chosen by its kind from the table the API serves
// (GET api/figures, internal/web/api/figures.go): the metric, its unit, its thresholds,
// the words of its states. The same table picks the fleet card's figures and the HSM
// page's health panels.

import {getJSON} from './api.js';
import {seriesKey} from './format.js';

let table = null; // the promise of {kinds, words}

export function loadFigures() {
  if (table === null) {
    table = getJSON('api/figures').catch((err) => {
      table = null;
      throw err;
    });
  }
  return table;
}

// kindOf returns the kind entry of an HSM (null when the table has none for it).
export function kindOf(tbl, hsm) {
  return (tbl.kinds || []).find((k) => k.id === hsm.kind) || null;
}

const pctFmt = new Intl.NumberFormat('en-US', {maximumFractionDigits: 1});

// wordOf names a state value ("up"), or '' when the metric has no words for it.
export function wordOf(words, v) {
  if (!words || typeof v !== 'number') return '';
  return words[String(v)] || '';
}

// fmtFigure writes a value in its unit, or as its word.
export function fmtFigure(fig, v) {
  const w = wordOf(fig.words, v);
  if (w) return w;
  if (typeof v !== 'number' || !Number.isFinite(v)) return String(v);
  const n = pctFmt.format(v);
  if (!fig.unit) return n;
  return fig.unit === '%' ? `${n} %` : `${n} ${fig.unit}`;
}

// thresholdText says what the thresholds are: "warn above 90 %, critical above 95 %".
export function thresholdText(fig) {
  const side = fig.below ? 'below' : 'above';
  const parts = [];
  if (fig.warn !== undefined) parts.push(`warning ${side} ${fmtFigure({unit: fig.unit}, fig.warn)}`);
  if (fig.crit !== undefined) parts.push(`critical ${side} ${fmtFigure({unit: fig.unit}, fig.crit)}`);
  return parts.join(', ');
}

// judge returns ok, warning or critical by the default thresholds ('' without any).
function judge(fig, v) {
  const over = (t) => (fig.below ? v < t : v > t);
  if (fig.crit !== undefined && over(fig.crit)) return 'critical';
  if (fig.warn !== undefined && over(fig.warn)) return 'warning';
  return fig.warn !== undefined || fig.crit !== undefined ? 'ok' : '';
}

const HEALTH = ['ok', 'warning', 'critical', 'unknown'];

// pickFigures returns the kind's figures an HSM has: [{fig, sample, state}], sample being
// the latest value of the first of the figure's metrics present (of several label sets,
// the worst: the highest, or the lowest for a figure where low is bad). state comes
// from the poller's verdict (health_state) when it stored one, else from the thresholds.
export function pickFigures(tbl, hsm) {
  const kind = kindOf(tbl, hsm);
  if (!kind) return [];
  const latest = hsm.samples || [];
  const out = [];
  for (const fig of kind.figures) {
    let sample = null;
    for (const m of fig.metrics) {
      const cands = latest.filter((s) => s.metric === m);
      if (!cands.length) continue;
      sample = cands.reduce((a, b) => ((fig.below ? b.value < a.value : b.value > a.value) ? b : a));
      break;
    }
    if (!sample) continue;
    let state = '';
    if (fig.health) {
      const verdicts = latest.filter((s) => s.metric === 'health_state' && s.labels && s.labels.item === fig.health);
      if (verdicts.length) state = HEALTH[Math.max(...verdicts.map((s) => s.value))] || 'unknown';
    }
    if (!state && fig.words && fig.id === 'status') state = HEALTH[sample.value] || '';
    if (!state) state = judge(fig, sample.value);
    out.push({fig, sample, key: seriesKey(sample), state});
  }
  return out;
}

// kindBySamples finds the kind from samples, as the API does (for a page opened before
// the fleet was read).
export function kindBySamples(tbl, samples) {
  const metrics = new Set(samples.map((s) => s.metric));
  return (tbl.kinds || []).find((k) => k.detect.some((m) => metrics.has(m))) || null;
}
