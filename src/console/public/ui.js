// Tiny DOM helpers: no framework, no build.

/** `el('button', { onclick, class }, 'text', child)` */
export function el(tag, attrs = {}, ...children) {
  const svg = ['svg', 'g', 'rect', 'path', 'text', 'line', 'title', 'defs', 'marker', 'polygon'].includes(tag);
  const node = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag) : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat())
    if (child !== null && child !== undefined && child !== false) node.append(child instanceof Node ? child : String(child));
  return node;
}

const ICONS = { succeeded: '✓', failed: '✗', upstream_failed: '⤓', running: '●', queued: '◌', cancelled: '⊘', skipped: '↷', pending: '○' };

/** A status badge: icon + word + colour, never colour alone. */
export function statusBadge(status) {
  const s = status ?? 'none';
  return el(
    'span',
    { class: `status s-${s}` },
    el('span', { 'aria-hidden': 'true' }, ICONS[s] ?? '·'),
    s === 'none' ? 'never run' : s.replace('_', ' '),
  );
}

export function fmtDate(value) {
  if (!value) return '—';
  const d = new Date(value);
  return d
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}

export function fmtDuration(start, end) {
  if (!start) return '—';
  const ms = new Date(end ?? Date.now()).getTime() - new Date(start).getTime();
  return ms < 1000
    ? `${ms} ms`
    : ms < 60_000
      ? `${(ms / 1000).toFixed(1)} s`
      : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** Row and byte counts with thousands separators, as the CLI prints them. */
export function fmtCount(n) {
  return n === null || n === undefined ? '—' : Number(n).toLocaleString('en-US');
}

/** An error message that stays inside its cell: long or multi-line ones open on demand. */
export function errorText(message) {
  if (!message) return '';
  const first = message.split('\n')[0];
  if (first.length <= 160 && first === message) return el('span', { class: 'error' }, message);
  return el(
    'details',
    { class: 'error' },
    el('summary', {}, first.length > 160 ? `${first.slice(0, 157)}…` : first),
    el('pre', { class: 'error-full' }, message),
  );
}

export function toast(message) {
  const t = document.getElementById('toast');
  t.textContent = message;
  t.classList.add('show');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => t.classList.remove('show'), 3000);
}

/** Parses `name=value` lines (values that parse as JSON are typed) or a JSON object. */
export function parseVariables(text) {
  const trimmed = text.trim();
  if (!trimmed) return {};
  if (trimmed.startsWith('{')) return JSON.parse(trimmed);
  const out = {};
  for (const line of trimmed.split('\n')) {
    if (!line.trim()) continue;
    const i = line.indexOf('=');
    if (i <= 0) throw new Error(`"${line}" is not name=value`);
    const raw = line.slice(i + 1).trim();
    let value = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      /* a plain string */
    }
    out[line.slice(0, i).trim()] = value;
  }
  return out;
}
