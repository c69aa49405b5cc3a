// Charts drawn as inline SVG from samples: sparklines for the fleet's cards and line
// charts with axes for an HSM's page. No chart library: the page must work offline.

import {svg, el} from './dom.js';
import {fmtShortTime, fmtValue} from './format.js';

// Series colours (distinguishable, dark enough on white) and dash patterns, so that lines
// differ by more than colour.
const COLOURS = ['#0b57d0', '#b3261e', '#1e7a3c', '#7b3fb3', '#b04a00', '#00697a', '#5b6470'];
const DASHES = ['', '6 3', '2 3', '8 3 2 3'];

const r1 = (x) => Math.round(x * 10) / 10;

// extent returns [min, max] of the values, widened when flat so that a line has room.
function extent(values) {
  let lo = Math.min(...values), hi = Math.max(...values);
  if (lo === hi) {
    const d = Math.abs(lo) * 0.05 || 1;
    lo -= d;
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

// sparkline is a small line of points {t (ms), v}, over [from, to] when given.
export function sparkline(points, {width = 240, height = 28, label = '', from, to} = {}) {
  // Stretched to the width of its box; the stroke keeps its width (CSS vector-effect).
  const box = svg('svg', {class: 'spark', viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none',
    role: 'img', 'aria-label': label});
  box.append(svg('title', {text: label}));
  if (points.length === 0) return box;
  const [lo, hi] = extent(points.map((p) => p.v));
  const t0 = from ?? points[0].t, t1 = to ?? points[points.length - 1].t;
  box.append(svg('path', {d: pathOf(points, t0, t1, lo, hi, 1, 2, width - 2, height - 4)}));
  return box;
}

// lineChart draws series [{name, points}] sharing one time axis [from, to] and one value
// axis; the figure has a caption and a legend.
export function lineChart(title, series, {from, to, metric = ''} = {}) {
  const W = 640, H = 220, left = 70, right = 12, top = 10, bottom = 28;
  const w = W - left - right, h = H - top - bottom;
  const all = series.flatMap((s) => s.points);
  const [lo, hi] = extent(all.map((p) => p.v));
  const t0 = from ?? Math.min(...all.map((p) => p.t));
  const t1 = to ?? Math.max(...all.map((p) => p.t));
  const withDate = t1 - t0 > 20 * 3600 * 1000;

  const chart = svg('svg', {class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img',
    'aria-label': `${title}: ${series.length} series from ${fmtShortTime(t0, true)} to ${fmtShortTime(t1, true)} UTC`});
  chart.append(svg('title', {text: title}));
  for (const f of [0, 0.5, 1]) {
    const y = r1(top + h - f * h);
    chart.append(svg('line', {class: 'grid', x1: left, x2: left + w, y1: y, y2: y}));
    chart.append(svg('text', {x: left - 6, y: y + 4, 'text-anchor': 'end', text: fmtValue(lo + f * (hi - lo), metric)}));
  }
  chart.append(svg('line', {class: 'axis', x1: left, x2: left, y1: top, y2: top + h}));
  chart.append(svg('line', {class: 'axis', x1: left, x2: left + w, y1: top + h, y2: top + h}));
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    const x = r1(left + f * w);
    chart.append(svg('line', {class: 'axis', x1: x, x2: x, y1: top + h, y2: top + h + 4}));
    const anchor = f === 0 ? 'start' : f === 1 ? 'end' : 'middle';
    chart.append(svg('text', {x, y: H - 8, 'text-anchor': anchor,
      text: fmtShortTime(t0 + f * (t1 - t0), withDate)}));
  }

  const legend = el('ul', {class: 'legend'});
  series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const dash = DASHES[Math.floor(i / COLOURS.length) % DASHES.length];
    chart.append(svg('path', {class: 'series', d: pathOf(s.points, t0, t1, lo, hi, left, top, w, h),
      stroke: colour, 'stroke-dasharray': dash || undefined, 'data-series': s.name}));
    if (s.points.length === 1) {
      const p = s.points[0];
      const cx = t1 === t0 ? left + w / 2 : left + ((p.t - t0) / (t1 - t0)) * w;
      chart.append(svg('circle', {cx: r1(cx), cy: r1(top + h - ((p.v - lo) / (hi - lo)) * h), r: 3, fill: colour}));
    }
    const last = s.points[s.points.length - 1];
    const swatch = el('span', {class: 'swatch'});
    swatch.style.borderTopColor = colour; // CSSOM: the CSP allows no inline style attributes
    if (dash) swatch.style.borderTopStyle = 'dashed';
    legend.append(el('li', null, swatch, `${s.name}: ${fmtValue(last.v, metric)}`));
  });
  return el('figure', {class: 'chart'}, el('figcaption', {text: title}), chart, series.length > 1 || series[0].name !== title ? legend : null);
}
