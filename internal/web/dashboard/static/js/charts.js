// Charts drawn as inline SVG from samples: sparklines for the fleet's cards and line
// charts with axes for an HSM's page. No chart library: the page must work offline.
//
// The axes are sized to what they show: the value axis's margin is as wide as its widest
// label (measured), its ticks are round numbers covering the data; the time axis's ticks
// fall on round times (a minute, 5 minutes, an hour, a day...) chosen so that no two
// labels read the same. Hovering a chart shows the values at that time.

import {svg, el} from './dom.js';
import {fmtShortTime} from './format.js';

// Series colours (distinguishable, dark enough on white) and dash patterns, so that lines
// differ by more than colour.
const COLOURS = ['#0b57d0', '#b3261e', '#1e7a3c', '#7b3fb3', '#b04a00', '#00697a', '#5b6470'];
const DASHES = ['', '6 3', '2 3', '8 3 2 3'];

const r1 = (x) => Math.round(x * 10) / 10;

// extent returns [min, max] of the values, widened when flat so that a line has room.
// A flat line of figures that are never negative (counts, percentages) is not given a
// negative range.
function extent(values) {
  let lo = Math.min(...values), hi = Math.max(...values);
  if (lo === hi) {
    const d = Math.abs(lo) * 0.05 || 1;
    lo = lo >= 0 ? Math.max(0, lo - d) : lo - d;
    hi += d;
  }
  return [lo, hi];
}

// pathOf draws points {t, v} into a box: "M x,y L x,y ...".
function pathOf(points, t0, t1, lo, hi, x, y, w, h) {
  const sx = (t) => x + (t1 === t0 ? w / 2 : ((t - t0) / (t1 - t0)) * w);
  const sy = (v) => y + h - ((v - lo) / (hi - lo)) * h;
  return points.map((p, i) => `${i ? 'L' : 'M'}${r1(sx(p.t))},${r1(sy(p.v))}`).join(' ');
}

// sparkline is a small line of points {t (ms), v}, over [from, to] when given, with
// dashed threshold lines [{v, cls}] when they fall within its range.
export function sparkline(points, {width = 240, height = 28, label = '', from, to, lines = [], max} = {}) {
  // Stretched to the width of its box; the stroke keeps its width (CSS vector-effect).
  const box = svg('svg', {class: 'spark', viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none',
    role: 'img', 'aria-label': label});
  box.append(svg('title', {text: label}));
  if (points.length === 0) return box;
  let [lo, hi] = extent(points.map((p) => p.v));
  if (max !== undefined) [lo, hi] = [Math.min(0, lo), Math.max(max, hi)];
  const t0 = from ?? points[0].t, t1 = to ?? points[points.length - 1].t;
  for (const l of lines) {
    if (l.v < lo || l.v > hi) continue;
    const y = r1(2 + (height - 4) - ((l.v - lo) / (hi - lo)) * (height - 4));
    box.append(svg('line', {class: `limit ${l.cls}`, x1: 0, x2: width, y1: y, y2: y}));
  }
  box.append(svg('path', {class: 'line', d: pathOf(points, t0, t1, lo, hi, 1, 2, width - 2, height - 4)}));
  return box;
}

// niceStep returns a round step (1, 2 or 5 times a power of ten) near span/n.
function niceStep(span, n) {
  const raw = span / n;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

// valueTicks returns round ticks covering [lo, hi]: the first at or below lo, the last at
// or above hi.
export function valueTicks(lo, hi, n = 4, integer = false) {
  const step = integer ? Math.max(1, niceStep(hi - lo, n)) : niceStep(hi - lo, n);
  const first = Math.floor(lo / step) * step, last = Math.ceil(hi / step) * step;
  const ticks = [];
  for (let v = first; v <= last + step / 2; v += step) ticks.push(Math.abs(v) < step / 1e6 ? 0 : Number(v.toPrecision(12)));
  return ticks;
}

const MIN = 60e3, HOUR = 3600e3, DAY = 86400e3;
const TIME_STEPS = [1e3, 2e3, 5e3, 10e3, 15e3, 30e3, MIN, 2 * MIN, 5 * MIN, 10 * MIN, 15 * MIN, 30 * MIN,
  HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY];

// timeTicks returns round times within [t0, t1], at most about n of them, and how to
// write them: with seconds under a minute's step, with the date over a day's range. The
// labels are distinct: the step is at least the labels' resolution.
export function timeTicks(t0, t1, n = 6) {
  const span = Math.max(t1 - t0, 1);
  const step = TIME_STEPS.find((s) => span / s <= n) || TIME_STEPS[TIME_STEPS.length - 1];
  const ticks = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) ticks.push(t);
  const pad = (x) => String(x).padStart(2, '0');
  const fmt = (t) => {
    const d = new Date(t);
    const md = `${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
    const hm = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
    if (step >= DAY) return md;
    if (step < MIN) return `${hm}:${pad(d.getUTCSeconds())}`;
    return span > 20 * HOUR ? `${md} ${hm}` : hm;
  };
  return ticks.map((t) => ({t, label: fmt(t)}));
}

// textWidth measures a label in the charts' font (11px, the page's family).
let measurer = null;
function textWidth(s) {
  if (measurer === null) {
    measurer = document.createElement('canvas').getContext('2d');
    measurer.font = `11px ${getComputedStyle(document.body).fontFamily}`;
  }
  return measurer.measureText(s).width;
}

// lineChart draws series [{name, points}] sharing one time axis [from, to] and one value
// axis; the figure has a caption and a legend. opts: fmt (a value's label), unit,
// thresholds [{v, cls, label}], words (value -> word: ticks at the named states), max (a
// percentage's 100: the axis runs from 0 to it), binary (bytes: ticks round in KiB, MiB...).
export function lineChart(title, series, {from, to, fmt = String, thresholds = [], words = null, max, binary = false} = {}) {
  const W = 640, H = 220, right = 16, top = 12, bottom = 30;
  const all = series.flatMap((s) => s.points);
  let [lo, hi] = extent(all.map((p) => p.v));
  let ticks;
  if (words && Object.keys(words).length) {
    const named = Object.keys(words).map(Number).filter((v) => Number.isFinite(v));
    lo = Math.min(lo, ...named);
    hi = Math.max(hi, ...named);
    ticks = [...new Set([...named, ...all.map((p) => p.v)])].filter((v) => v >= lo && v <= hi).sort((a, b) => a - b);
    if (lo === hi) hi = lo + 1;
  } else {
    if (max !== undefined) [lo, hi] = [Math.min(0, lo), Math.max(max, hi)];
    // Bytes get round ticks in the binary unit their labels are written in (MiB, GiB).
    let scale = 1;
    while (binary && Math.max(Math.abs(lo), Math.abs(hi)) / scale >= 1024 && scale < 1024 ** 5) scale *= 1024;
    // Counts (every value whole) get whole ticks.
    const integer = scale === 1 && all.every((p) => Number.isInteger(p.v));
    ticks = valueTicks(lo / scale, hi / scale, 4, integer).map((v) => v * scale);
    lo = ticks[0];
    hi = ticks[ticks.length - 1];
  }
  const label = (v) => (words && words[String(v)]) || fmt(v);
  const labels = ticks.map(label);
  const left = Math.ceil(Math.max(...labels.map(textWidth), 10)) + 14;
  const w = W - left - right, h = H - top - bottom;
  const t0 = from ?? Math.min(...all.map((p) => p.t));
  const t1 = to ?? Math.max(...all.map((p) => p.t));
  const sy = (v) => top + h - ((v - lo) / (hi - lo)) * h;
  const sx = (t) => (t1 === t0 ? left + w / 2 : left + ((t - t0) / (t1 - t0)) * w);

  const chart = svg('svg', {class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'data-from': t0, 'data-to': t1,
    'aria-label': `${title}: ${series.length} series from ${fmtShortTime(t0, true)} to ${fmtShortTime(t1, true)} UTC`});
  chart.append(svg('title', {text: title}));
  ticks.forEach((v, i) => {
    const y = r1(sy(v));
    chart.append(svg('line', {class: 'grid', x1: left, x2: left + w, y1: y, y2: y}));
    chart.append(svg('text', {class: 'y-label', x: left - 6, y: y + 4, 'text-anchor': 'end', 'data-value': v, text: labels[i]}));
  });
  chart.append(svg('line', {class: 'axis', x1: left, x2: left, y1: top, y2: top + h}));
  chart.append(svg('line', {class: 'axis', x1: left, x2: left + w, y1: top + h, y2: top + h}));
  const tt = timeTicks(t0, t1, Math.max(2, Math.floor(w / 90)));
  tt.forEach(({t, label: text}) => {
    const x = r1(sx(t));
    chart.append(svg('line', {class: 'axis', x1: x, x2: x, y1: top + h, y2: top + h + 4}));
    // The labels near an edge lean inwards, so that none is cut by the figure's edge.
    const anchor = x - left < 40 ? 'start' : left + w - x < 40 ? 'end' : 'middle';
    chart.append(svg('text', {class: 'x-label', x, y: H - 10, 'text-anchor': anchor, 'data-time': t, text}));
  });
  for (const th of thresholds) {
    if (th.v < lo || th.v > hi) continue;
    const y = r1(sy(th.v));
    chart.append(svg('line', {class: `limit ${th.cls}`, x1: left, x2: left + w, y1: y, y2: y}));
    // A warning's label under its line, a critical one's above: two close lines keep
    // their labels apart.
    chart.append(svg('text', {class: `limit-label ${th.cls}`, x: left + w - 2, y: th.cls === 'warn' ? y + 11 : y - 3, 'text-anchor': 'end', text: th.label}));
  }

  const legend = el('ul', {class: 'legend'});
  series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const dash = DASHES[Math.floor(i / COLOURS.length) % DASHES.length];
    s.colour = colour;
    chart.append(svg('path', {class: 'series', d: pathOf(s.points, t0, t1, lo, hi, left, top, w, h),
      stroke: colour, 'stroke-dasharray': dash || undefined, 'data-series': s.name}));
    if (s.points.length === 1) {
      const p = s.points[0];
      chart.append(svg('circle', {cx: r1(sx(p.t)), cy: r1(sy(p.v)), r: 3, fill: colour}));
    }
    const last = s.points[s.points.length - 1];
    const swatch = el('span', {class: 'swatch'});
    swatch.style.borderTopColor = colour; // CSSOM: the CSP allows no inline style attributes
    if (dash) swatch.style.borderTopStyle = 'dashed';
    legend.append(el('li', null, swatch, `${s.name}: ${label(last.v)}`));
  });
  hover(chart, series, {left, top, w, h, t0, t1, sx, sy, label});
  return el('figure', {class: 'chart'}, el('figcaption', {text: title}), chart,
    series.length > 1 || series[0].name !== title ? legend : null);
}

// hover shows, under the pointer, the time and each series' value nearest to it.
function hover(chart, series, {left, top, w, h, t0, t1, sx, sy, label}) {
  const cursor = svg('line', {class: 'cursor', x1: 0, x2: 0, y1: top, y2: top + h, visibility: 'hidden'});
  const tip = svg('g', {class: 'tip', visibility: 'hidden'});
  const bg = svg('rect', {rx: 3});
  const text = svg('text', null);
  tip.append(bg, text);
  const area = svg('rect', {class: 'hover', x: left, y: top, width: w, height: h, fill: 'transparent'});
  chart.append(cursor, tip, area);
  const nearest = (pts, t) => {
    let best = pts[0];
    for (const p of pts) if (Math.abs(p.t - t) < Math.abs(best.t - t)) best = p;
    return best;
  };
  area.addEventListener('pointermove', (e) => {
    const m = area.getScreenCTM();
    if (!m) return;
    const x = (e.clientX - m.e) / m.a;
    const t = t0 + ((x - left) / w) * (t1 - t0);
    const rows = series.map((s) => ({s, p: nearest(s.points, t)}));
    const at = rows[0].p.t;
    cursor.setAttribute('x1', r1(sx(at)));
    cursor.setAttribute('x2', r1(sx(at)));
    cursor.setAttribute('visibility', 'visible');
    text.replaceChildren();
    const lines = [`${fmtShortTime(at, true)}:${String(new Date(at).getUTCSeconds()).padStart(2, '0')} UTC`,
      ...rows.slice(0, 6).map(({s, p}) => (series.length > 1 ? `${s.name}: ` : '') + label(p.v))];
    lines.forEach((l, i) => text.append(svg('tspan', {x: 0, dy: i ? 14 : 0, text: l})));
    const tx = sx(at) + 8 > left + w - 160 ? sx(at) - 168 : sx(at) + 8;
    const ty = Math.max(top + 12, Math.min(sy(rows[0].p.v), top + h - lines.length * 14));
    text.setAttribute('transform', `translate(${r1(tx + 6)},${r1(ty + 4)})`);
    for (const ts of text.children) ts.setAttribute('x', 0);
    bg.setAttribute('x', r1(tx));
    bg.setAttribute('y', r1(ty - 8));
    bg.setAttribute('width', 160);
    bg.setAttribute('height', lines.length * 14 + 6);
    tip.setAttribute('visibility', 'visible');
    tip.dataset.time = String(at);
  });
  area.addEventListener('pointerleave', () => {
    cursor.setAttribute('visibility', 'hidden');
    tip.setAttribute('visibility', 'hidden');
  });
}
