// The alarm list: open alarms (filtered and sorted as the form says) with their
// acknowledge and close buttons, the recently cleared, the silences and the maintenance
// windows.

import {el, replace, hostLink} from './dom.js';
import {fmtTime, fmtDuration, age, levelRank, describeAlarm} from './format.js';
import {sendJSON, savedActor, saveActor, getSession} from './api.js';

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

// stateTags marks flapping, acknowledged (by whom), silenced (by what) and stale alarms.
export function stateTags(a) {
  const tags = [];
  if (a.flapping) tags.push(el('span', {class: 'tag', text: 'flapping'}));
  if (a.acknowledged) {
    const why = a.acknowledged.comment ? `: ${a.acknowledged.comment}` : '';
    tags.push(el('span', {class: 'tag acknowledged', title: `acknowledged by ${a.acknowledged.by} at ${fmtTime(a.acknowledged.at)}${why}`,
      text: `acknowledged by ${a.acknowledged.by}`}));
  }
  // The API names what covers the alarm now: "silence 12" or "maintenance 3" (its host is
  // in maintenance window 3 now).
  if (a.silenced && /^maintenance /.test(a.silenced)) {
    tags.push(el('span', {class: 'tag silenced maintenance', title: `host in ${a.silenced.replace('maintenance', 'maintenance window')} now`,
      text: 'in maintenance'}));
  } else if (a.silenced) {
    tags.push(el('span', {class: 'tag silenced', title: a.silenced, text: 'silenced'}));
  }
  if (a.stale) tags.push(el('span', {class: 'tag stale', text: 'stale'}));
  return tags.map((t, i) => (i ? [' ', t] : t));
}

function stateCell(a) {
  return el('td', {class: 'state'}, stateTags(a));
}

// CLIP_CHARS: a longer text is shown clipped, with a button that shows all of it (in a
// box of bounded height: one event of a megabyte must not make the page endless).
const CLIP_CHARS = 280;

// clippedText shows a message clipped to CLIP_CHARS with a "Show all" toggle; clipped
// says the API already cut it (the whole event is in its detail).
export function clippedText(text, clipped) {
  text = String(text ?? '');
  const long = text.length > CLIP_CHARS || (text.match(/\n/g) || []).length > 3;
  if (!long) return el('span', {class: 'text', text: text + (clipped ? ' …' : '')});
  const full = el('span', {class: 'text full', hidden: true, tabindex: 0, role: 'region', 'aria-label': 'The whole message', text: text + (clipped ? ' … (cut: the whole event is in its detail)' : '')});
  const short = el('span', {class: 'text short', text: text.slice(0, CLIP_CHARS).replace(/\n/g, ' ') + ' …'});
  const button = el('button', {type: 'button', class: 'linklike more', 'aria-expanded': 'false',
    text: `Show all (${text.length.toLocaleString('en-US')} characters)`});
  button.addEventListener('click', (e) => {
    e.stopPropagation();
    const open = full.hidden;
    full.hidden = !open;
    short.hidden = open;
    button.setAttribute('aria-expanded', String(open));
    button.textContent = open ? 'Show less' : `Show all (${text.length.toLocaleString('en-US')} characters)`;
  });
  return el('span', {class: 'clip'}, short, full, ' ', button);
}

// evidenceList folds an alarm's evidence (what asserted and cleared it, from which
// source) and the operators' actions (who did what when) under a details element.
export function evidenceList(a) {
  const ev = a.evidence || [];
  const items = ev.map((x) => el('li', null,
    el('span', {class: 'time', text: fmtTime(x.time) + ' '}),
    x.assert === false ? el('span', {class: 'badge cleared', text: 'clear'}) : el('span', {class: 'badge none', text: 'assert'}),
    ` ${x.source || ''}`, x.rule ? ` (${x.rule})` : '', x.input ? `, from ${x.input}` : ''));
  if (a.acknowledged) {
    items.push(el('li', {class: 'action'}, el('span', {class: 'time', text: fmtTime(a.acknowledged.at) + ' '}),
      el('strong', {text: `acknowledged by ${a.acknowledged.by}`}), a.acknowledged.comment ? `: ${a.acknowledged.comment}` : ''));
  }
  if (a.closed) {
    items.push(el('li', {class: 'action'}, el('span', {class: 'time', text: fmtTime(a.closed.at) + ' '}),
      el('strong', {text: `closed by ${a.closed.by}`}), a.closed.comment ? `: ${a.closed.comment}` : ''));
  }
  if (a.silenced) items.push(el('li', {class: 'action', text: `covered now by ${a.silenced.replace('maintenance', 'maintenance window')}`}));
  const acts = (a.acknowledged ? 1 : 0) + (a.closed ? 1 : 0);
  return el('details', {class: 'evidence'},
    el('summary', {text: `Evidence (${ev.length})${acts ? ` and actions (${acts})` : ''}`}),
    el('ul', {class: 'plain'}, items));
}

export function sortOpen(alarms) {
  return [...alarms].sort((a, b) => levelRank(b.level) - levelRank(a.level) ||
    Date.parse(a.opened) - Date.parse(b.opened) || alarmID(a).localeCompare(alarmID(b)));
}

// filters reads the alarm filter form.
function filters() {
  return {
    host: document.getElementById('af-host').value.trim().toLowerCase(),
    level: document.getElementById('af-level').value,
    state: document.getElementById('af-state').value,
    sort: document.getElementById('af-sort').value,
  };
}

// filterOpen keeps and orders the open alarms as the form says.
export function filterOpen(alarms, f) {
  const min = f.level ? levelRank(f.level) : 0;
  const kept = alarms.filter((a) => (!f.host || (a.host || '').toLowerCase().includes(f.host)) &&
    levelRank(a.level) >= min &&
    (f.state === '' || (f.state === 'acknowledged' && a.acknowledged) || (f.state === 'unacknowledged' && !a.acknowledged) ||
      (f.state === 'silenced' && a.silenced) || (f.state === 'stale' && a.stale)));
  const byAge = (a, b) => Date.parse(a.opened) - Date.parse(b.opened) || alarmID(a).localeCompare(alarmID(b));
  if (f.sort === 'age') return kept.sort(byAge);
  if (f.sort === 'newest') return kept.sort((a, b) => byAge(b, a));
  return sortOpen(kept);
}

function actionButtons(a) {
  // An alarm that came from the live stream has no id until the list reloads.
  const off = a.id === undefined;
  const label = `${a.host} ${a.key}`;
  return el('td', {class: 'actions'},
    el('button', {type: 'button', class: 'ack', 'data-action': 'ack', 'data-id': a.id, disabled: off,
      'aria-label': `Acknowledge ${label}`, text: a.acknowledged ? 'Re-acknowledge' : 'Acknowledge'}),
    el('button', {type: 'button', class: 'close', 'data-action': 'close', 'data-id': a.id, disabled: off,
      'aria-label': `Close ${label} by hand`, text: 'Close'}));
}

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

// fmtWeekdays shows a window's days: "every day", "mon-fri", "sat, sun".
export function fmtWeekdays(days) {
  const set = new Set(days || []);
  if (set.size === 0 || set.size === 7) return 'every day';
  if (set.size === 5 && WEEKDAYS.slice(0, 5).every((d) => set.has(d))) return 'mon-fri';
  return WEEKDAYS.filter((d) => set.has(d)).join(', ');
}

// fmtSpan shortens Go's duration text: "2h0m0s" is "2h", "1h30m0s" "1h30m".
export function fmtSpan(s) {
  return String(s || '').replace(/([hm])0m0s$/, '$1').replace(/([hm])0s$/, '$1').replace(/^0s$/, '0');
}

// PAGE_ROWS bounds a table's rows: the page keeps a sane height however many alarms.
const PAGE_ROWS = 25;
const pages = {open: 0, cleared: 0};

// pageOf returns the rows of the table's current page and draws its pager.
function pageOf(name, rows) {
  const count = Math.max(1, Math.ceil(rows.length / PAGE_ROWS));
  pages[name] = Math.min(pages[name], count - 1);
  const p = pages[name];
  const nav = document.getElementById(`${name}-pager`);
  nav.hidden = count <= 1;
  replace(nav,
    el('button', {type: 'button', 'data-page': p - 1, disabled: p === 0, text: 'Previous'}),
    el('span', {text: ` Page ${p + 1} of ${count} (${rows.length} alarms) `}),
    el('button', {type: 'button', 'data-page': p + 1, disabled: p >= count - 1, text: 'Next'}));
  return rows.slice(p * PAGE_ROWS, (p + 1) * PAGE_ROWS);
}

// renderAlarms fills both tables, the silences and the maintenance windows.
export function renderAlarms(open, cleared, silences = [], windows = []) {
  const now = Date.now();
  const shown = filterOpen(open, filters());
  const openPage = pageOf('open', shown);
  const openRows = openPage.map((a) => el('tr', {'data-level': a.level || 'none', 'data-host': a.host,
    'data-id': a.id, class: a.acknowledged ? 'acknowledged' : null},
    el('td', null, levelBadge(a.level)),
    el('td', null, hostLink(a.host)),
    el('td', {text: a.key}),
    el('td', {text: describeAlarm(a), title: a.title || a.rule}),
    el('td', {class: 'time', text: fmtTime(a.opened)}),
    el('td', {class: 'time', text: age(a.opened, now)}),
    el('td', {text: a.asserts}),
    stateCell(a),
    el('td', {class: 'msg'}, clippedText(a.message || '', false), evidenceList(a)),
    actionButtons(a),
  ));
  replace(document.querySelector('#alarms-open tbody'), openRows);
  document.getElementById('alarms-open-empty').hidden = shown.length > 0;
  document.getElementById('open-count').textContent = shown.length === open.length ? `(${open.length})` : `(${shown.length} of ${open.length})`;

  const clearedRows = pageOf('cleared', cleared).map((a) => el('tr', {class: 'cleared', 'data-level': a.level || 'none', 'data-host': a.host},
    el('td', {title: `was ${a.level || 'none'}`}, clearedBadge()),
    el('td', null, hostLink(a.host)),
    el('td', {text: a.key}),
    el('td', {text: a.title || a.rule}),
    el('td', {class: 'time', text: fmtTime(a.opened)}),
    el('td', {class: 'time', text: fmtTime(a.cleared)}),
    el('td', {class: 'time', text: fmtDuration(Date.parse(a.cleared) - Date.parse(a.opened))}),
    flapCell(a),
    el('td', null, a.closed ? `${a.closed.by} (by hand${a.closed.comment ? ': ' + a.closed.comment : ''})` : a.cleared_by,
      evidenceList(a)),
  ));
  replace(document.querySelector('#alarms-cleared tbody'), clearedRows);
  document.getElementById('alarms-cleared-empty').hidden = cleared.length > 0;

  const silenceRows = silences.map((s) => el('tr', {'data-id': s.id},
    el('td', {text: s.host || '*'}),
    el('td', {text: s.rule || '*'}),
    el('td', {text: s.level || '*'}),
    el('td', {class: 'time', text: fmtTime(s.starts)}),
    el('td', {class: 'time', text: fmtTime(s.ends)}),
    el('td', {text: s.created_by}),
    el('td', {text: s.comment}),
    el('td', null, el('button', {type: 'button', 'data-action': 'unsilence', 'data-id': s.id,
      'aria-label': `End the silence of ${s.host || s.rule || s.level}`, text: 'End'})),
  ));
  replace(document.querySelector('#silences tbody'), silenceRows);
  document.getElementById('silences-empty').hidden = silences.length > 0;

  const windowRows = windows.map((m) => el('tr', {'data-id': m.id, 'data-host': m.host},
    el('td', {text: m.host}),
    el('td', {text: fmtWeekdays(m.weekdays)}),
    el('td', {class: 'time', text: m.start}),
    el('td', {text: fmtSpan(m.duration)}),
    el('td', {text: m.zone || 'UTC'}),
    el('td', {text: m.created_by}),
    el('td', {text: m.comment}),
    el('td', null, el('button', {type: 'button', 'data-action': 'delete-maintenance', 'data-id': m.id,
      'aria-label': `Delete the maintenance window of ${m.host} (${fmtWeekdays(m.weekdays)} ${m.start})`, text: 'Delete'})),
  ));
  replace(document.querySelector('#maintenance tbody'), windowRows);
  document.getElementById('maintenance-empty').hidden = windows.length > 0;
}

function showFormError(id, err) {
  const p = document.getElementById(id);
  p.textContent = err ? String(err.message || err) : '';
  p.hidden = !err;
}

// MAINTENANCE_FIELDS maps the fields the API names in its 400 ("start: want HH:MM ...")
// to the form's inputs.
const MAINTENANCE_FIELDS = {host: 'mf-host', weekdays: 'mf-weekdays', start: 'mf-start', duration: 'mf-duration',
  zone: 'mf-zone', comment: 'mf-comment'};

// markInvalid flags the input the API's error names (none: clears every flag) and
// returns it.
function markInvalid(err) {
  const field = err ? String(err.message || err).split(':')[0] : '';
  let named = null;
  for (const [f, id] of Object.entries(MAINTENANCE_FIELDS)) {
    const n = document.getElementById(id);
    if (f === field) {
      n.setAttribute('aria-invalid', 'true');
      named = n;
    } else {
      n.removeAttribute('aria-invalid');
    }
  }
  return named;
}

// browserZone is the browser's IANA time zone, or "" (UTC) when it has none.
function browserZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || '';
  } catch {
    return '';
  }
}

// actor returns the operator's name from the form, or asks for it.
function actor() {
  const input = document.getElementById('actor');
  const name = input.value.trim();
  if (name) saveActor(name);
  return name;
}

// setupAlarms binds the alarm view's forms and buttons; changed() reloads the data and
// redraws, redraw() only redraws.
export function setupAlarms({changed, redraw, showError}) {
  const actorInput = document.getElementById('actor');
  actorInput.value = savedActor();
  // Signed in: actions are recorded under the user's name, which the form shows.
  getSession().then((s) => {
    if (!s.authenticated) return;
    actorInput.value = s.user;
    actorInput.readOnly = true;
    actorInput.title = `signed in as ${s.user} (${s.role})`;
  }).catch(() => {}); // an action asks again, and reports the error
  const filterForm = document.getElementById('alarm-filters');
  const refilter = () => {
    pages.open = 0;
    redraw();
  };
  filterForm.addEventListener('input', refilter);
  filterForm.addEventListener('change', refilter);
  for (const name of ['open', 'cleared']) {
    document.getElementById(`${name}-pager`).addEventListener('click', (e) => {
      const b = e.target.closest('button[data-page]');
      if (!b || b.disabled) return;
      pages[name] = Number(b.dataset.page);
      redraw();
      const again = document.querySelector(`#${name}-pager button[data-page="${Number(b.dataset.page) + (b.textContent === 'Next' ? 1 : -1)}"]`);
      if (again && !again.disabled) again.focus();
      else document.querySelector(`#${name}-pager button:not([disabled])`)?.focus();
    });
  }
  filterForm.addEventListener('submit', (e) => e.preventDefault());

  const form = document.getElementById('alarm-action');
  const comment = document.getElementById('action-comment');
  let pending = null; // {id, verb, opener}
  const closeForm = () => {
    form.hidden = true;
    showFormError('action-error', null);
    if (pending && pending.opener && pending.opener.isConnected) pending.opener.focus();
    pending = null;
  };
  document.querySelector('#alarms-open tbody').addEventListener('click', (e) => {
    const b = e.target.closest('button[data-action]');
    if (!b || b.disabled) return;
    const tr = b.closest('tr');
    pending = {id: b.dataset.id, verb: b.dataset.action, opener: b};
    const verb = pending.verb === 'ack' ? 'Acknowledge' : 'Close by hand';
    document.getElementById('action-title').textContent = verb;
    document.getElementById('action-submit').textContent = verb;
    document.getElementById('action-alarm').textContent = `${tr.dataset.host}: ${tr.children[2].textContent} (${tr.children[3].textContent})` +
      (pending.verb === 'close' ? '. Closing by hand is for an alarm that will never see its clear; a later assert opens a new alarm.' : '');
    comment.value = '';
    comment.required = pending.verb === 'close';
    showFormError('action-error', null);
    form.hidden = false;
    comment.focus();
  });
  document.getElementById('action-cancel').addEventListener('click', closeForm);
  form.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') closeForm();
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!pending) return;
    const who = actor();
    if (!who) {
      showFormError('action-error', 'Give your name (above the list): it is recorded with the action.');
      actorInput.focus();
      return;
    }
    try {
      await sendJSON('POST', `api/alarms/${encodeURIComponent(pending.id)}/${pending.verb}`, {comment: comment.value}, who);
      closeForm();
      await changed();
    } catch (err) {
      showFormError('action-error', err);
    }
  });

  document.getElementById('silence-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const who = actor();
    if (!who) {
      showFormError('silence-error', 'Give your name (above the alarm list): it is recorded with the silence.');
      actorInput.focus();
      return;
    }
    const v = (id) => document.getElementById(id).value.trim();
    try {
      await sendJSON('POST', 'api/silences', {host: v('sf-host'), rule: v('sf-rule'), level: v('sf-level'),
        duration: v('sf-duration'), comment: v('sf-comment')}, who);
      showFormError('silence-error', null);
      for (const id of ['sf-host', 'sf-rule', 'sf-level', 'sf-comment']) document.getElementById(id).value = '';
      await changed();
    } catch (err) {
      showFormError('silence-error', err);
    }
  });
  document.querySelector('#silences tbody').addEventListener('click', async (e) => {
    const b = e.target.closest('button[data-action="unsilence"]');
    if (!b) return;
    const who = actor();
    if (!who) {
      showFormError('silence-error', 'Give your name (above the alarm list): it is recorded with the action.');
      actorInput.focus();
      return;
    }
    try {
      await sendJSON('DELETE', `api/silences/${encodeURIComponent(b.dataset.id)}`, undefined, who);
      await changed();
    } catch (err) {
      showError(err);
    }
  });

  const zone = document.getElementById('mf-zone');
  zone.value = browserZone();
  document.getElementById('maintenance-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const who = actor();
    if (!who) {
      markInvalid(null);
      showFormError('maintenance-error', 'Give your name (above the alarm list): it is recorded with the window.');
      actorInput.focus();
      return;
    }
    const v = (id) => document.getElementById(id).value.trim();
    const days = [...document.querySelectorAll('#mf-weekdays input[name="weekday"]:checked')].map((c) => c.value);
    try {
      await sendJSON('POST', 'api/maintenance', {host: v('mf-host'), weekdays: days, start: v('mf-start'),
        duration: v('mf-duration'), zone: v('mf-zone'), comment: v('mf-comment')}, who);
      markInvalid(null);
      showFormError('maintenance-error', null);
      for (const id of ['mf-host', 'mf-comment']) document.getElementById(id).value = '';
      for (const c of document.querySelectorAll('#mf-weekdays input[name="weekday"]')) c.checked = false;
      await changed();
    } catch (err) {
      const named = markInvalid(err);
      showFormError('maintenance-error', err);
      if (named && named.id !== 'mf-weekdays') named.focus();
    }
  });
  document.querySelector('#maintenance tbody').addEventListener('click', async (e) => {
    const b = e.target.closest('button[data-action="delete-maintenance"]');
    if (!b) return;
    const who = actor();
    if (!who) {
      showFormError('maintenance-error', 'Give your name (above the alarm list): it is recorded with the action.');
      actorInput.focus();
      return;
    }
    const buttons = () => [...document.querySelectorAll('#maintenance tbody button[data-action="delete-maintenance"]')];
    const at = buttons().indexOf(b);
    try {
      await sendJSON('DELETE', `api/maintenance/${encodeURIComponent(b.dataset.id)}`, undefined, who);
      showFormError('maintenance-error', null);
      await changed();
      // The row is gone: the keyboard stays in the list (the next window's button) or
      // goes back to the heading when the list is empty.
      const left = buttons();
      (left[Math.min(at, left.length - 1)] || document.getElementById('maintenance-heading')).focus();
    } catch (err) {
      showFormError('maintenance-error', err);
    }
  });
}

export {levelBadge, clearedBadge};
