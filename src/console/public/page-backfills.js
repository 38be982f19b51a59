import { get, post } from './api.js';
import { el, fmtCount, fmtDate, statusBadge, toast } from './ui.js';

export async function backfillsPage(query) {
  const backfills = await get(`/api/backfills?${query}`);
  return {
    nodes: [
      el('h1', {}, 'Backfills'),
      el(
        'table',
        {},
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            ['Backfill', 'Pipeline', 'Status', 'Range', 'Every', 'Runs'].map((h) => el('th', { scope: 'col' }, h)),
          ),
        ),
        el(
          'tbody',
          {},
          backfills.length
            ? backfills.map((b) =>
                el(
                  'tr',
                  {},
                  el('td', {}, el('a', { href: `#/backfills/${encodeURIComponent(b.id)}` }, b.id)),
                  el('td', {}, b.pipeline),
                  el('td', {}, statusBadge(b.status)),
                  el('td', { class: 'mono' }, `${fmtDate(b.start)} → ${fmtDate(b.end)}`),
                  el('td', {}, b.every),
                  el('td', { class: 'num' }, fmtCount(b.executionDates.length)),
                ),
              )
            : el('tr', {}, el('td', { colspan: 6 }, 'No backfills yet: start one from a pipeline.')),
        ),
      ),
    ],
    poll: 5000,
  };
}

function progress(c) {
  const pct = (n) => `${(100 * n) / Math.max(1, c.planned)}%`;
  return el(
    'div',
    {
      class: 'progress',
      role: 'progressbar',
      'aria-valuemin': 0,
      'aria-valuemax': c.planned,
      'aria-valuenow': c.succeeded + c.failed + c.cancelled,
      'aria-label': 'Backfill progress',
    },
    el('span', { class: 'p-ok', style: undefined, 'data-w': pct(c.succeeded) }),
    el('span', { class: 'p-bad', 'data-w': pct(c.failed) }),
    el('span', { class: 'p-cancel', 'data-w': pct(c.cancelled) }),
    el('span', { class: 'p-run', 'data-w': pct(c.running) }),
  );
}

/** One backfill: progress by date, with cancel and retry. */
export async function backfillPage(id) {
  const { backfill: b, counts: c, dates } = await get(`/api/backfills/${encodeURIComponent(id)}`);
  const active = b.status === 'running';
  const act = (what) => async () => {
    try {
      await post(`/api/backfills/${encodeURIComponent(b.id)}/${what}`);
      toast(`backfill ${what === 'cancel' ? 'cancelled' : 'retrying'}`);
      document.dispatchEvent(new Event('refresh'));
    } catch (err) {
      toast(err.message);
    }
  };
  const bar = progress(c);
  // CSP forbids inline styles in markup; widths are set through the CSSOM instead.
  for (const span of bar.children) span.style.width = span.dataset.w;
  const summary = el(
    'div',
    { id: 'bf-summary', class: 'card' },
    el(
      'div',
      { class: 'row' },
      statusBadge(b.status),
      el('span', {}, `${b.pipeline} · every ${b.every} · ${fmtDate(b.start)} → ${fmtDate(b.end)}`),
      el('button', { type: 'button', class: 'danger', disabled: !active, onclick: act('cancel') }, 'Cancel backfill'),
      el(
        'button',
        { type: 'button', class: 'secondary', disabled: active || b.status === 'succeeded', onclick: act('retry') },
        'Retry failed and cancelled',
      ),
    ),
    el(
      'p',
      { id: 'bf-counts' },
      `${fmtCount(c.succeeded)} succeeded · ${fmtCount(c.failed)} failed · ${fmtCount(c.cancelled)} cancelled · ${fmtCount(c.running)} running · ${fmtCount(c.pending)} not started · ${fmtCount(c.planned)} planned`,
    ),
    bar,
  );
  const table = el(
    'table',
    { id: 'bf-dates' },
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        ['Execution date', 'Status', 'Runs', 'Latest run'].map((h) => el('th', { scope: 'col' }, h)),
      ),
    ),
    el(
      'tbody',
      {},
      dates.map((d) =>
        el(
          'tr',
          {},
          el('td', { class: 'mono' }, fmtDate(d.executionDate)),
          el('td', {}, statusBadge(d.status)),
          el('td', {}, String(d.attempts)),
          el('td', {}, d.runId ? el('a', { href: `#/runs/${encodeURIComponent(d.runId)}` }, d.runId) : '—'),
        ),
      ),
    ),
  );
  return {
    nodes: [el('h1', {}, `Backfill ${b.id}`), summary, table],
    live: { 'bf-summary': summary, 'bf-dates': table },
    poll: active || c.running ? 700 : 4000,
  };
}
