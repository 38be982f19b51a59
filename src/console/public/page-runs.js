import { get, post } from './api.js';
import { ganttSvg } from './gantt.js';
import { el, fmtDate, fmtDuration, statusBadge, toast } from './ui.js';

const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];

/** Runs, newest first, filtered by pipeline and status (kept in the URL). */
export async function runsPage(query) {
  const [runs, pipelines] = await Promise.all([get(`/api/runs?${query}`), get('/api/pipelines')]);
  const filters = el('form', { class: 'inline', 'aria-label': 'Filter runs', onchange: (e) => {
    const f = e.currentTarget.elements;
    const q = new URLSearchParams();
    if (f.pipeline.value) q.set('pipeline', f.pipeline.value);
    if (f.status.value) q.set('status', f.status.value);
    location.hash = `#/runs?${q}`;
  }, onsubmit: (e) => e.preventDefault() },
  el('label', { for: 'f-pipeline' }, 'Pipeline', el('select', { id: 'f-pipeline', name: 'pipeline' }, el('option', { value: '' }, 'all'), pipelines.map((p) => el('option', { value: p.name, selected: query.get('pipeline') === p.name }, p.name)))),
  el('label', { for: 'f-status' }, 'Status', el('select', { id: 'f-status', name: 'status' }, el('option', { value: '' }, 'any'), STATUSES.map((s) => el('option', { value: s, selected: query.get('status') === s }, s)))));
  const table = el('table', { id: 'runs-table' },
    el('caption', { class: 'sr' }, 'Runs'),
    el('thead', {}, el('tr', {}, ['Run', 'Pipeline', 'Status', 'Trigger', 'Execution date', 'Duration', 'Rows out'].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, runs.length ? runs.map((r) => el('tr', {},
      el('td', {}, el('a', { href: `#/runs/${encodeURIComponent(r.id)}` }, r.id)),
      el('td', {}, r.pipeline), el('td', {}, statusBadge(r.status), r.attempt > 1 ? el('span', { class: 'muted' }, ` attempt ${r.attempt}`) : null),
      el('td', {}, r.backfillId ? el('a', { href: `#/backfills/${encodeURIComponent(r.backfillId)}` }, 'backfill') : r.trigger),
      el('td', { class: 'mono' }, fmtDate(r.executionDate)), el('td', {}, fmtDuration(r.startedAt, r.finishedAt)),
      el('td', {}, r.rowsOut ?? '—'))) : el('tr', {}, el('td', { colspan: 7 }, 'No runs match.'))));
  const active = runs.some((r) => r.status === 'running' || r.status === 'queued');
  return { nodes: [el('h1', {}, 'Runs'), filters, table], live: { 'runs-table': table }, poll: active ? 1500 : 10000 };
}

async function showLogs(runId, block) {
  const logs = await get(`/api/runs/${encodeURIComponent(runId)}/logs${block ? `?block=${encodeURIComponent(block)}` : ''}`);
  const panel = document.getElementById('panel');
  panel.replaceChildren(el('h2', { id: 'panel-title' }, block ? `Logs of ${block}` : 'Run logs'),
    el('pre', { class: 'logs', tabindex: 0, 'aria-labelledby': 'panel-title' }, logs.length ? logs.map((l) => el('span', { class: `sev-${l.severity}` }, `${fmtDate(l.time)} ${l.severity.padEnd(7)} ${l.block ? `[${l.block}] ` : ''}${l.message}\n`)) : 'No log lines.'));
  panel.querySelector('h2').focus?.();
}

async function showPreview(runId, block) {
  const panel = document.getElementById('panel');
  try {
    const p = await get(`/api/runs/${encodeURIComponent(runId)}/blocks/${encodeURIComponent(block)}/preview`);
    const body = p.columns.length
      ? el('div', { class: 'scroll' }, el('table', { 'aria-labelledby': 'panel-title' },
        el('thead', {}, el('tr', {}, p.columns.map((c) => el('th', { scope: 'col' }, c.name, el('br'), el('span', { class: 'mono' }, c.type))))),
        el('tbody', {}, p.rows.map((r) => el('tr', {}, p.columns.map((c) => el('td', { class: 'mono' }, r[c.name] === null || r[c.name] === undefined ? '∅' : typeof r[c.name] === 'object' ? JSON.stringify(r[c.name]) : String(r[c.name]))))))))
      : el('pre', { class: 'logs' }, JSON.stringify(p.value, null, 2));
    panel.replaceChildren(el('h2', { id: 'panel-title' }, `Output of ${block}`),
      el('p', { class: 'muted' }, `${p.format} · ${p.totalRows ?? '?'} rows · ${p.bytes.toLocaleString()} bytes · first ${p.rows.length} rows`), body);
  } catch (error) {
    panel.replaceChildren(el('h2', {}, `Output of ${block}`), el('p', { class: 'error', role: 'alert' }, error.message));
  }
}

function blocksTable(detail) {
  const { run, blocks } = detail;
  return el('table', { id: 'blocks-table' },
    el('caption', { class: 'sr' }, 'Blocks of this run'),
    el('thead', {}, el('tr', {}, ['Block', 'Status', 'Attempts', 'Duration', 'Rows out', 'Error', 'Details'].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, blocks.map((b) => el('tr', {},
      el('td', {}, el('code', {}, b.block), b.reusedFrom ? el('div', { class: 'muted' }, `reused from ${b.reusedFrom}`) : null),
      el('td', {}, statusBadge(b.status)), el('td', {}, String(b.attempts)), el('td', {}, fmtDuration(b.startedAt, b.finishedAt)),
      el('td', {}, b.rowsOut ?? '—'), el('td', { class: 'error' }, b.error ?? ''),
      el('td', {}, el('div', { class: 'row' },
        el('button', { type: 'button', class: 'secondary', onclick: () => showLogs(run.id, b.block) }, `Logs of ${b.block}`),
        b.hasOutput ? el('button', { type: 'button', class: 'secondary', onclick: () => showPreview(run.id, b.block) }, `Preview ${b.block}`) : null))))));
}

/** One run: header, per-block timeline, block table with logs and output previews. */
export async function runPage(id) {
  const detail = await get(`/api/runs/${encodeURIComponent(id)}`);
  const { run } = detail;
  const active = run.status === 'running' || run.status === 'queued';
  const header = el('div', { id: 'run-header', class: 'card' },
    el('div', { class: 'row' }, statusBadge(run.status), el('span', {}, `${run.pipeline} · ${run.trigger}`),
      run.attempt > 1 ? el('span', { id: 'run-attempt' }, `attempt ${run.attempt}`) : null,
      run.owner ? el('span', { class: 'muted mono' }, run.owner.cloudExecution ? `${run.owner.cloudExecution.split('/').pop()} task ${run.owner.cloudTaskIndex}` : `pid ${run.owner.pid} on ${run.owner.host}`) : null,
      el('span', { class: 'muted' }, `execution date ${fmtDate(run.executionDate)} · started ${fmtDate(run.startedAt)} · ${fmtDuration(run.startedAt, run.finishedAt)}`),
      active ? el('button', { type: 'button', class: 'danger', onclick: async () => {
        try { await post(`/api/runs/${encodeURIComponent(run.id)}/cancel`); toast('run cancelled'); document.dispatchEvent(new Event('refresh')); } catch (err) { toast(err.message); }
      } }, 'Cancel run') : null),
    Object.keys(run.variables).length ? el('p', { class: 'mono' }, `variables: ${JSON.stringify(run.variables)}`) : null,
    run.error ? el('p', { class: 'error', role: 'alert' }, run.error) : null,
    run.backfillId ? el('p', {}, 'part of ', el('a', { href: `#/backfills/${encodeURIComponent(run.backfillId)}` }, `backfill ${run.backfillId}`)) : null);
  const timeline = el('div', { id: 'timeline', class: 'card scroll' }, ganttSvg(run, detail.blocks));
  const blocks = blocksTable(detail);
  return {
    nodes: [el('h1', {}, `Run ${run.id}`), header, el('h2', {}, 'Timeline'), timeline, el('h2', {}, 'Blocks'), blocks,
      el('section', { id: 'panel', class: 'card', 'aria-live': 'polite' }, el('p', { class: 'muted' }, 'Pick a block’s logs or output preview.'))],
    live: { 'run-header': header, timeline, 'blocks-table': blocks },
    poll: active ? 700 : null,
  };
}
