import { get, post } from './api.js';
import { ganttSvg } from './gantt.js';
import { el, errorText, fmtCount, fmtDate, fmtDuration, statusBadge, toast } from './ui.js';

const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];

/** Runs, newest first, filtered by pipeline and status (kept in the URL). */
export async function runsPage(query) {
  const [runs, pipelines] = await Promise.all([get(`/api/runs?${query}`), get('/api/pipelines')]);
  const filters = el(
    'form',
    {
      class: 'inline',
      'aria-label': 'Filter runs',
      onchange: (e) => {
        const f = e.currentTarget.elements;
        const q = new URLSearchParams();
        if (f.pipeline.value) q.set('pipeline', f.pipeline.value);
        if (f.status.value) q.set('status', f.status.value);
        location.hash = `#/runs?${q}`;
      },
      onsubmit: (e) => e.preventDefault(),
    },
    el(
      'label',
      { for: 'f-pipeline' },
      'Pipeline',
      el(
        'select',
        { id: 'f-pipeline', name: 'pipeline' },
        el('option', { value: '' }, 'all'),
        pipelines.map((p) => el('option', { value: p.name, selected: query.get('pipeline') === p.name }, p.name)),
      ),
    ),
    el(
      'label',
      { for: 'f-status' },
      'Status',
      el(
        'select',
        { id: 'f-status', name: 'status' },
        el('option', { value: '' }, 'any'),
        STATUSES.map((s) => el('option', { value: s, selected: query.get('status') === s }, s)),
      ),
    ),
  );
  const table = el(
    'table',
    { id: 'runs-table', class: 'stack' },
    el('caption', { class: 'sr' }, 'Runs'),
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        ['Run', 'Pipeline', 'Status', 'Trigger', 'Execution date', 'Duration', 'Rows out'].map((h) => el('th', { scope: 'col' }, h)),
      ),
    ),
    el(
      'tbody',
      {},
      runs.length
        ? runs.map((r) =>
            el(
              'tr',
              {},
              el('td', { 'data-label': 'Run' }, el('a', { href: `#/runs/${encodeURIComponent(r.id)}` }, r.id)),
              el('td', { 'data-label': 'Pipeline' }, r.pipeline),
              el(
                'td',
                { 'data-label': 'Status' },
                statusBadge(r.status),
                r.attempt > 1 ? el('span', { class: 'muted' }, ` attempt ${r.attempt}`) : null,
              ),
              el(
                'td',
                { 'data-label': 'Trigger' },
                r.backfillId ? el('a', { href: `#/backfills/${encodeURIComponent(r.backfillId)}` }, 'backfill') : r.trigger,
              ),
              el('td', { class: 'mono', 'data-label': 'Execution date' }, fmtDate(r.executionDate)),
              el('td', { 'data-label': 'Duration' }, fmtDuration(r.startedAt, r.finishedAt)),
              el('td', { class: 'num', 'data-label': 'Rows out' }, fmtCount(r.rowsOut)),
            ),
          )
        : el('tr', {}, el('td', { colspan: 7 }, 'No runs match.')),
    ),
  );
  const active = runs.some((r) => r.status === 'running' || r.status === 'queued');
  return { nodes: [el('h1', {}, 'Runs'), filters, table], live: { 'runs-table': table }, poll: active ? 1500 : 10000 };
}

async function showLogs(runId, block) {
  const logs = await get(`/api/runs/${encodeURIComponent(runId)}/logs${block ? `?block=${encodeURIComponent(block)}` : ''}`);
  const panel = document.getElementById('panel');
  panel.replaceChildren(
    el('h2', { id: 'panel-title' }, block ? `Logs of ${block}` : 'Run logs'),
    el(
      'pre',
      { class: 'logs', tabindex: 0, 'aria-labelledby': 'panel-title' },
      logs.length
        ? logs.map((l) =>
            el(
              'span',
              { class: `sev-${l.severity}` },
              `${fmtDate(l.time)} ${l.severity.padEnd(7)} ${l.block ? `[${l.block}] ` : ''}${l.message}\n`,
            ),
          )
        : 'No log lines.',
    ),
  );
  panel.querySelector('h2').focus?.();
}

/** One preview value; a long one is cut with an ellipsis and shown whole on hover. */
function cell(value) {
  const text = value === null || value === undefined ? '∅' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return el('td', { class: 'mono', title: text.length > 40 ? text : undefined }, text);
}

async function showPreview(runId, block) {
  const panel = document.getElementById('panel');
  try {
    const p = await get(`/api/runs/${encodeURIComponent(runId)}/blocks/${encodeURIComponent(block)}/preview`);
    const body = p.columns.length
      ? el(
          'div',
          { class: 'scroll', id: 'preview-scroll', tabindex: 0, 'aria-label': 'Output preview (scrolls sideways)' },
          el(
            'table',
            { class: 'data', 'aria-labelledby': 'panel-title' },
            el(
              'thead',
              {},
              el(
                'tr',
                {},
                p.columns.map((c) => el('th', { scope: 'col' }, c.name, el('br'), el('span', { class: 'mono' }, c.type))),
              ),
            ),
            el(
              'tbody',
              {},
              p.rows.map((r) =>
                el(
                  'tr',
                  {},
                  p.columns.map((c) => cell(r[c.name])),
                ),
              ),
            ),
          ),
        )
      : el('pre', { class: 'logs' }, JSON.stringify(p.value, null, 2));
    panel.replaceChildren(
      el('h2', { id: 'panel-title' }, `Output of ${block}`),
      el(
        'p',
        { class: 'muted', id: 'preview-summary' },
        `${p.format} · ${p.totalRows === null || p.totalRows === undefined ? '?' : fmtCount(p.totalRows)} rows · ${fmtCount(p.bytes)} bytes · first ${fmtCount(p.rows.length)} rows`,
      ),
      body,
    );
  } catch (error) {
    panel.replaceChildren(el('h2', {}, `Output of ${block}`), el('p', { class: 'error', role: 'alert' }, error.message));
  }
}

function blocksTable(detail) {
  const { run, blocks } = detail;
  return el(
    'table',
    { id: 'blocks-table', class: 'stack' },
    el('caption', { class: 'sr' }, 'Blocks of this run'),
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        ['Block', 'Status', 'Attempts', 'Duration', 'Rows out', 'Error', 'Details'].map((h) => el('th', { scope: 'col' }, h)),
      ),
    ),
    el(
      'tbody',
      {},
      blocks.map((b) =>
        el(
          'tr',
          {},
          el(
            'td',
            { 'data-label': 'Block' },
            el('code', {}, b.block),
            b.reusedFrom ? el('div', { class: 'muted' }, `reused from ${b.reusedFrom}`) : null,
          ),
          el('td', { 'data-label': 'Status' }, statusBadge(b.status)),
          el('td', { 'data-label': 'Attempts' }, String(b.attempts)),
          el('td', { 'data-label': 'Duration' }, fmtDuration(b.startedAt, b.finishedAt)),
          el('td', { class: 'num', 'data-label': 'Rows out' }, fmtCount(b.rowsOut)),
          el('td', { class: 'error-cell', 'data-label': b.error ? 'Error' : undefined }, errorText(b.error)),
          el(
            'td',
            { 'data-label': 'Details' },
            el(
              'div',
              { class: 'row' },
              el('button', { type: 'button', class: 'secondary', onclick: () => showLogs(run.id, b.block) }, `Logs of ${b.block}`),
              b.hasOutput
                ? el('button', { type: 'button', class: 'secondary', onclick: () => showPreview(run.id, b.block) }, `Preview ${b.block}`)
                : null,
            ),
          ),
        ),
      ),
    ),
  );
}

/** The room inside a card on this page (main's padding and the card's padding and border taken off). */
function chartWidth() {
  const main = document.getElementById('main');
  if (!main) return 820;
  const style = getComputedStyle(main);
  const inner = main.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 34;
  return Math.max(300, Math.min(1100, Math.floor(inner)));
}

/** One run: header, per-block timeline, block table with logs and output previews. */
export async function runPage(id) {
  const detail = await get(`/api/runs/${encodeURIComponent(id)}`);
  const { run } = detail;
  const active = run.status === 'running' || run.status === 'queued';
  const header = el(
    'div',
    { id: 'run-header', class: 'card' },
    el(
      'div',
      { class: 'row' },
      statusBadge(run.status),
      el('span', {}, `${run.pipeline} · ${run.trigger}`),
      run.attempt > 1 ? el('span', { id: 'run-attempt' }, `attempt ${run.attempt}`) : null,
      run.owner
        ? el(
            'span',
            { class: 'muted mono' },
            run.owner.cloudExecution
              ? `${run.owner.cloudExecution.split('/').pop()} task ${run.owner.cloudTaskIndex}`
              : `pid ${run.owner.pid} on ${run.owner.host}`,
          )
        : null,
      el(
        'span',
        { class: 'muted' },
        `execution date ${fmtDate(run.executionDate)} · started ${fmtDate(run.startedAt)} · ${fmtDuration(run.startedAt, run.finishedAt)}`,
      ),
      active
        ? el(
            'button',
            {
              type: 'button',
              class: 'danger',
              onclick: async () => {
                try {
                  await post(`/api/runs/${encodeURIComponent(run.id)}/cancel`);
                  toast('run cancelled');
                  document.dispatchEvent(new Event('refresh'));
                } catch (err) {
                  toast(err.message);
                }
              },
            },
            'Cancel run',
          )
        : null,
    ),
    Object.keys(run.variables).length ? el('p', { class: 'mono' }, `variables: ${JSON.stringify(run.variables)}`) : null,
    run.error ? el('div', { role: 'alert' }, errorText(run.error)) : null,
    run.backfillId
      ? el('p', {}, 'part of ', el('a', { href: `#/backfills/${encodeURIComponent(run.backfillId)}` }, `backfill ${run.backfillId}`))
      : null,
  );
  const timeline = el('div', { id: 'timeline', class: 'card scroll' }, ganttSvg(run, detail.blocks, chartWidth()));
  const blocks = blocksTable(detail);
  return {
    nodes: [
      el('h1', {}, `Run ${run.id}`),
      header,
      el('h2', {}, 'Timeline'),
      timeline,
      el('h2', {}, 'Blocks'),
      el('div', { class: 'card flush' }, blocks),
      el(
        'section',
        { id: 'panel', class: 'card', 'aria-live': 'polite' },
        el('p', { class: 'muted' }, 'Pick a block’s logs or output preview.'),
      ),
    ],
    live: { 'run-header': header, timeline, 'blocks-table': blocks },
    poll: active ? 700 : null,
  };
}
