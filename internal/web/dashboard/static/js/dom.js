// Building the page from data. Every piece of text from the daemon (event messages, raw
// lines, host names) goes into the document as a text node or an attribute value, never
// through an HTML parser, so no event can inject markup or script.

const SVG_NS = 'http://www.w3.org/2000/svg';

// el creates an HTML element: el('td', {class: 'time', text: '...'}, child, ...).
export function el(tag, attrs, ...children) {
  const n = document.createElement(tag);
  setAttrs(n, attrs);
  appendAll(n, children);
  return n;
}

// svg creates an SVG element the same way.
export function svg(tag, attrs, ...children) {
  const n = document.createElementNS(SVG_NS, tag);
  setAttrs(n, attrs);
  appendAll(n, children);
  return n;
}

function setAttrs(n, attrs) {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') {
      n.textContent = String(v);
    } else if (k.startsWith('on')) {
      if (typeof v !== 'function') throw new Error(`dom: ${k} must be a function`);
      n.addEventListener(k.slice(2), v);
    } else if (k === 'href' && !String(v).startsWith('#')) {
      // Links only ever lead to the dashboard's own views.
      throw new Error(`dom: refusing link ${String(v)}`);
    } else {
      n.setAttribute(k, v === true ? '' : String(v));
    }
  }
}

function appendAll(n, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    n.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// replace empties n and appends the children.
export function replace(n, ...children) {
  n.replaceChildren();
  appendAll(n, children);
}

// hostLink links to an HSM's page; an event without a host has none.
export function hostLink(host) {
  if (!host) return el('span', {class: 'muted', text: '(no host)'});
  return el('a', {href: '#/hsm/' + encodeURIComponent(host), text: host});
}
