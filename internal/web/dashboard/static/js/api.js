// Reading the daemon's JSON API. Paths are relative to the page, so the dashboard works
// behind a reverse proxy that serves it under a sub-path.

export class APIError extends Error {}

// getJSON fetches path with the non-empty params and returns the decoded body; an error
// answer becomes an APIError carrying the API's message.
export async function getJSON(path, params = {}, signal) {
  const url = new URL(path, document.baseURI);
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
  }
  let resp;
  try {
    resp = await fetch(url, {headers: {Accept: 'application/json'}, cache: 'no-store', signal});
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new APIError(`the daemon cannot be reached (${path})`);
  }
  let body;
  try {
    body = await resp.json();
  } catch {
    throw new APIError(`${path}: HTTP ${resp.status}, not JSON`);
  }
  if (!resp.ok) throw new APIError(`${path}: ${body.error || 'HTTP ' + resp.status}`);
  return body;
}

// ruleCache remembers catalog rules by id: they change only when the daemon reloads.
const ruleCache = new Map();

// getRule returns a rule's id, title, level, meaning and action, or null when the
// catalog has no such rule.
export async function getRule(id) {
  if (ruleCache.has(id)) return ruleCache.get(id);
  try {
    const r = await getJSON('api/rules/' + encodeURIComponent(id));
    ruleCache.set(id, r);
    return r;
  } catch (err) {
    if (err instanceof APIError && /no rule/.test(err.message)) {
      ruleCache.set(id, null);
      return null;
    }
    throw err;
  }
}

// ACTOR_KEY is where the dashboard remembers the name the operator gave.
const ACTOR_KEY = 'hsmwatch.actor';

export function savedActor() {
  try {
    return localStorage.getItem(ACTOR_KEY) || '';
  } catch {
    return '';
  }
}

export function saveActor(name) {
  try {
    localStorage.setItem(ACTOR_KEY, name);
  } catch {
    // private mode: the name is asked again next time
  }
}

// session is the promise of GET api/csrf: {token, user, role, authenticated}. The token
// goes with every action (X-CSRF-Token); the user, when the daemon authenticates, is the
// name actions are recorded under.
let session = null;

export function getSession(refresh = false) {
  if (session === null || refresh) {
    session = getJSON('api/csrf').catch((err) => {
      // Mounted without the daemon's guard (no api/csrf): actions go without a token.
      if (err instanceof APIError && /no such endpoint/.test(err.message)) return {token: '', authenticated: false};
      session = null;
      throw err;
    });
  }
  return session;
}

// sendJSON makes an operator action (POST or DELETE) with a JSON body and the CSRF
// token; the actor goes in the header the API reads when it does not authenticate its
// users (it records the authenticated user otherwise). A refused token (the daemon
// restarted) is fetched again once.
export async function sendJSON(method, path, body, actor) {
  for (let attempt = 0; ; attempt++) {
    const {token} = await getSession(attempt > 0);
    const url = new URL(path, document.baseURI);
    const headers = {Accept: 'application/json', 'X-Hsmwatch-Actor': actor || '', 'X-CSRF-Token': token};
    const init = {method, headers, cache: 'no-store'};
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let resp;
    try {
      resp = await fetch(url, init);
    } catch {
      throw new APIError(`the daemon cannot be reached (${path})`);
    }
    let data;
    try {
      data = await resp.json();
    } catch {
      throw new APIError(`${path}: HTTP ${resp.status}, not JSON`);
    }
    if (resp.status === 403 && attempt === 0 && /X-CSRF-Token/.test(data.error || '')) continue;
    if (!resp.ok) throw new APIError(data.error || `HTTP ${resp.status}`);
    return data;
  }
}
