// The fleet: one card per HSM, grouped by site, worst first. A card's state is its worst
// OPEN alarm (never the stored event counts), named in words with its age; below it
// three to five health figures chosen by the HSM's kind (figures.js), in their units,
// with their thresholds and a sparkline of the last 24 hours. PKCS#11 tokens are cards of
// their own kind, listed under their library; an uninitialised slot is no card.

import {el, replace, hostLink} from './dom.js';
import {levelRank, fmtTime, shortAge, describeAlarm, seriesKey} from './format.js';
import {sparkline} from './charts.js';
import {levelBadge, sortOpen} from './alarms.js';
import {pickFigures, fmtFigure, thresholdText, kindOf} from './figures.js';

export const SPARK_WINDOW_MS = 24 * 3600 * 1000;
const MAX_FIGURES = 5;

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

function figureItem(f, history, now) {
  const pts = (history?.get(f.key) || []).filter((p) => p.t >= now - SPARK_WINDOW_MS);
  const from = pts.length ? pts[0].t : now - SPARK_WINDOW_MS;
  const limits = thresholdText(f.fig);
  const lines = [];
  if (f.fig.warn !== undefined) lines.push({v: f.fig.warn, cls: 'warn'});
  if (f.fig.crit !== undefined) lines.push({v: f.fig.crit, cls: 'crit'});
  const value = fmtFigure(f.fig, f.sample.value);
  return el('li', {class: 'figure', 'data-figure': f.fig.id, 'data-metric': f.sample.metric, 'data-state': f.state || 'none'},
    el('span', {class: 'name', text: f.fig.label}),
    el('span', {class: 'value', text: value}),
    limits ? el('span', {class: 'limits', text: limits}) : null,
    f.fig.words ? null : sparkline(pts, {label: `${f.fig.label}, ${value} now; since ${fmtTime(new Date(from).toISOString())} UTC`,
      from, to: now, lines, max: f.fig.max}));
}

function kindText(h, tbl) {
  if (h.kind === 'pkcs11' && h.token) {
    const lib = h.token.library.split('/').pop();
    return `PKCS#11 token, ${lib}${h.token.slot ? ' slot ' + h.token.slot : ''}`;
  }
  return kindOf(tbl, h)?.label || (h.samples && h.samples.length ? 'polled device' : 'logs only');
}

function card(r, history, tbl, now) {
  const {h, alarms} = r;
  const figures = pickFigures(tbl, h).slice(0, MAX_FIGURES);
  const worst = alarms[0];
  const state = worst ? (worst.level || 'none') : 'ok';
  const more = alarms.length - 1;
  return el('article', {class: 'card', 'data-host': h.host, 'data-site': h.site, 'data-level': state, 'data-kind': h.kind || 'none'},
    el('div', {class: 'card-head'},
      el('h4', {class: 'title'}, hostLink(h.host)),
      state === 'ok' ? el('span', {class: 'badge ok', text: 'ok'}) : levelBadge(worst.level)),
    el('p', {class: 'kind', text: kindText(h, tbl)}),
    worst
      ? el('p', {class: 'worst'}, el('strong', {text: describeAlarm(worst)}),
        el('span', {class: 'age', text: `, ${shortAge(now - Date.parse(worst.opened))}`}))
      : el('p', {class: 'worst none', text: 'No open alarm'}),
    el('p', {class: 'alarms-count', text: alarms.length === 0 ? '' :
      more > 0 ? `and ${more} more open alarm${more === 1 ? '' : 's'}` : '1 open alarm'}),
    figures.length ? el('ul', {class: 'figures', 'aria-label': `Health of ${h.host}`},
      figures.map((f) => figureItem(f, history, now))) : null,
    h.last_event ? el('p', {class: 'hint last', text: `Last event ${shortAge(now - Date.parse(h.last_event))} ago`,
      title: fmtTime(h.last_event) + ' UTC'}) : null);
}

// rank orders cards: the worst open alarm's level, then the number of open alarms.
function rank(r) {
  return r.alarms.length ? 1000 * (1 + levelRank(r.alarms[0].level)) + r.alarms.length : 0;
}

function matchesSearch(r, tbl, q) {
  if (!q) return true;
  const text = [r.h.host, r.h.site, kindText(r.h, tbl), ...r.alarms.map((a) => describeAlarm(a) + ' ' + (a.title || ''))]
    .join(' ').toLowerCase();
  return q.split(/\s+/).every((w) => text.includes(w));
}

// renderFleet draws the cards, a section per site, the worst site and the worst cards
// first; tbl is the figure table (null until loaded).
export function renderFleet(hsms, openAlarms, histories, tbl) {
  tbl = tbl || {kinds: [], words: {}};
  const now = Date.now();
  const q = document.getElementById('fleet-search').value.trim().toLowerCase();
  const byHost = new Map();
  for (const a of openAlarms) {
    const k = `${a.site}\u0000${a.host}`;
    if (!byHost.has(k)) byHost.set(k, []);
    byHost.get(k).push(a);
  }
  const unused = [];
  const rows = [];
  for (const h of hsms) {
    const alarms = sortOpen(byHost.get(hsmID(h)) || []);
    // An uninitialised slot with no alarm is no HSM: it is named under the site instead.
    if (h.token && h.token.uninitialised && alarms.length === 0) {
      unused.push(h);
      continue;
    }
    rows.push({h, alarms});
  }
  rows.sort((a, b) => rank(b) - rank(a) || a.h.host.localeCompare(b.h.host));
  const shown = rows.filter((r) => matchesSearch(r, tbl, q));
  const sites = new Map();
  for (const r of shown) {
    if (!sites.has(r.h.site)) sites.set(r.h.site, []);
    sites.get(r.h.site).push(r);
  }
  const siteRank = (rs) => Math.max(...rs.map(rank));
  const order = [...sites.entries()].sort((a, b) => siteRank(b[1]) - siteRank(a[1]) || a[0].localeCompare(b[0]));
  const sections = order.map(([site, rs]) => {
    const hsmRows = rs.filter((r) => r.h.kind !== 'pkcs11');
    const tokens = rs.filter((r) => r.h.kind === 'pkcs11');
    const open = rs.reduce((n, r) => n + r.alarms.length, 0);
    const spare = unused.filter((h) => h.site === site);
    const id = 'site-' + site.replace(/[^A-Za-z0-9_-]/g, '_');
    return el('section', {class: 'site', 'data-site': site, 'aria-labelledby': id},
      el('h3', {id, text: `Site ${site}`}, el('span', {class: 'count',
        text: ` (${rs.length} ${rs.length === 1 ? 'device' : 'devices'}, ${open} open alarm${open === 1 ? '' : 's'})`})),
      hsmRows.length ? el('div', {class: 'cards'}, hsmRows.map((r) => card(r, histories.get(hsmID(r.h)), tbl, now))) : null,
      tokens.length ? el('h4', {class: 'tokens-heading', text: 'PKCS#11 tokens'}) : null,
      tokens.length ? el('div', {class: 'cards tokens'}, tokens.map((r) => card(r, histories.get(hsmID(r.h)), tbl, now))) : null,
      spare.length ? el('p', {class: 'hint spare', text: `Not shown: ${spare.length} uninitialised PKCS#11 slot${spare.length === 1 ? '' : 's'} (` +
        spare.map((h) => `${h.token.library.split('/').pop()} slot ${h.token.slot || '?'}`).join(', ') + ').'}) : null);
  });
  replace(document.getElementById('fleet-cards'), sections);
  document.getElementById('fleet-empty').hidden = hsms.length > 0;
  const summary = document.getElementById('fleet-summary');
  summary.textContent = q ? `${shown.length} of ${rows.length} devices match "${q}".` : '';
}
