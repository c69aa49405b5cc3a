// Formatting of levels, times, ages and numbers. Times are shown in UTC, as the headers say,
// so that operators at several sites read the same clock.

export const LEVELS = ['critical', 'major', 'minor', 'warning', 'info', 'debug'];

// levelRank orders levels: critical 6 .. debug 1, anything else 0 (as the store does).
export function levelRank(level) {
  const i = LEVELS.indexOf(level);
  return i < 0 ? 0 : LEVELS.length - i;
}

// worstLevel returns the most serious level of the list, or ''.
export function worstLevel(levels) {
  let best = '';
  for (const l of levels) if (levelRank(l) > levelRank(best)) best = l;
  return best;
}

const pad = (n) => String(n).padStart(2, '0');

// fmtTime writes an RFC 3339 time as "2026-03-01 12:00:00" in UTC.
export function fmtTime(s) {
  if (!s) return '';
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return String(s);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

// fmtShortTime writes "03-01 12:00", for chart axes.
export function fmtShortTime(ms, withDate) {
  const d = new Date(ms);
  const hm = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  return withDate ? `${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${hm}` : hm;
}

// fmtDuration writes a duration in milliseconds as "3d 4h", "2h 5m", "42s".
export function fmtDuration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '';
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

// age is the time since an RFC 3339 time.
export function age(s, now = Date.now()) {
  const t = Date.parse(s);
  return Number.isNaN(t) ? '' : fmtDuration(now - t);
}

const plain = new Intl.NumberFormat('en-US', {maximumFractionDigits: 2});
const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

// fmtValue writes a sample's value; metrics that count bytes get binary units.
export function fmtValue(v, metric) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return String(v);
  if (/bytes/i.test(metric || '') && Math.abs(v) >= 1024) {
    let i = 0;
    while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return `${plain.format(v)} ${units[i]}`;
  }
  if (Math.abs(v) >= 1e9) return v.toExponential(2);
  return plain.format(v);
}

// labelText writes a sample's labels as "k=v, k=v" in key order.
export function labelText(labels) {
  if (!labels) return '';
  return Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(', ');
}

// seriesKey names one series: a metric and its labels.
export function seriesKey(s) {
  return s.metric + '\u0000' + labelText(s.labels);
}

// seriesName is how a series is shown.
export function seriesName(s) {
  const l = labelText(s.labels);
  return l ? `${s.metric} (${l})` : s.metric;
}

// The figures an operator looks at first, in this order: memory, storage, sessions (or
// a Luna appliance's NTLS clients), temperatures, battery, then load. Anything else a
// poll reads comes after them.
const KEY_FIGURES = [/mem/i, /stor|disk/i, /session|client/i, /temp/i, /batter/i, /cpu|load/i];

// figureRank orders metrics for display; health_state (a state code, not a figure) last.
export function figureRank(metric) {
  if (metric === 'health_state') return KEY_FIGURES.length + 1;
  const i = KEY_FIGURES.findIndex((re) => re.test(metric));
  return i < 0 ? KEY_FIGURES.length : i;
}


// shortAge writes how long ago, as a person says it: "40 s", "4 min", "3 h", "2 d".
export function shortAge(ms) {
  if (!Number.isFinite(ms)) return '';
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86400)} d`;
}

// An IPMI threshold message: "Fan sensor Fan1A . Lower Non-recoverable going low (...)".
const IPMI_THRESHOLD = /\b(\w+) sensor (\S+) \. (Lower|Upper) (Non-recoverable|Critical|Non-critical) going (low|high)/i;

// describeAlarm says what is wrong in words: an IPMI threshold alarm as "Fan Fan1A below
// its non-recoverable threshold", anything else as its rule's title with the key it is
// about ("Private key export (prodkey)") when the title does not name it.
export function describeAlarm(a) {
  const m = IPMI_THRESHOLD.exec(a.message || '');
  if (m) {
    return `${m[1]} ${m[2]} ${m[3].toLowerCase() === 'lower' ? 'below' : 'above'} its ${m[4].toLowerCase()} threshold`;
  }
  const title = a.title || a.rule || 'Alarm';
  if (a.key && a.key !== a.rule && !title.includes(a.key)) return `${title} (${a.key})`;
  return title;
}
