// The alarm list: open alarms first (most serious, then oldest), then the recently cleared.

import {el, replace, hostLink} from './dom.js';
import {fmtTime, fmtDuration, age, levelRank} from './format.js';

export function alarmID(a) {
  return `${a.site}\u0000${a.host}\u0000${a.key}`;
}

function levelBadge(level) {
  return el('span', {class: `badge ${level || 'none'}`, text: level || 'none'});
}

// clearedBadge stands for the level of what is over: an alarm closed, an event that
// clears one (its level is the alarm's, for the sinks' filters, not a failure).
function clearedBadge() {
  return el('span', {class: 'badge cleared', text: 'cleared'});
}

function flapCell(a) {
  return el('td', null, a.flapping ? el('span', {class: 'tag', text: 'flapping'}) : '');
}

export function sortOpen(alarms) {
  return [...alarms].sort((a, b) => levelRank(b.level) - levelRank(a.level) ||
    Date.parse(a.opened) - Date.parse(b.opened) || alarmID(a).localeCompare(alarmID(b)));
}

// renderAlarms fills both tables.
export function renderAlarms(open, cleared) {
  const now = Date.now();
  const openRows = sortOpen(open).map((a) => el('tr', {'data-level': a.level || 'none', 'data-host': a.host},
    el('td', null, levelBadge(a.level)),
    el('td', null, hostLink(a.host)),
    el('td', {text: a.key}),
    el('td', {text: a.title || a.rule}),
    el('td', {class: 'time', text: fmtTime(a.opened)}),
    el('td', {class: 'time', text: age(a.opened, now)}),
    el('td', {text: a.asserts}),
    flapCell(a),
    el('td', {class: 'msg', text: a.message}),
  ));
  replace(document.querySelector('#alarms-open tbody'), openRows);
  document.getElementById('alarms-open-empty').hidden = open.length > 0;
  document.getElementById('open-count').textContent = `(${open.length})`;

  const clearedRows = cleared.map((a) => el('tr', {class: 'cleared', 'data-level': a.level || 'none', 'data-host': a.host},
    el('td', {title: `was ${a.level || 'none'}`}, clearedBadge()),
    el('td', null, hostLink(a.host)),
    el('td', {text: a.key}),
    el('td', {text: a.title || a.rule}),
    el('td', {class: 'time', text: fmtTime(a.opened)}),
    el('td', {class: 'time', text: fmtTime(a.cleared)}),
    el('td', {class: 'time', text: fmtDuration(Date.parse(a.cleared) - Date.parse(a.opened))}),
    flapCell(a),
    el('td', {text: a.cleared_by}),
  ));
  replace(document.querySelector('#alarms-cleared tbody'), clearedRows);
  document.getElementById('alarms-cleared-empty').hidden = cleared.length > 0;
}

export {levelBadge, clearedBadge};
