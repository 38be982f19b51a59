import { get, post } from './api.js';
import { dagSvg } from './dag.js';
import { el, fmtDate, parseVariables, statusBadge, toast } from './ui.js';

function runForm(p) {
  const id = `vars-${p.name}`;
  const date = `date-${p.name}`;
  const error = el('p', { class: 'error', role: 'alert' });
  const defaults = Object.entries(p.variables)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join('\n');
  return el(
    'form',
    {
      class: 'inline',
      'aria-label': `Run ${p.name}`,
      onsubmit: async (e) => {
        e.preventDefault();
        const f = e.currentTarget;
        try {
          const variables = parseVariables(f.elements.variables.value);
          const body = { variables, ...(f.elements.executionDate.value ? { executionDate: f.elements.executionDate.value } : {}) };
          const result = await post(`/api/pipelines/${encodeURIComponent(p.name)}/runs`, body);
          if (result.runId) location.hash = `#/runs/${encodeURIComponent(result.runId)}`;
          else toast(`started ${result.execution}`);
        } catch (err) {
          error.textContent = err.message;
        }
      },
    },
    el(
      'label',
      { for: id },
      'Variables (name=value per line)',
      el('textarea', { id, name: 'variables', rows: 2, cols: 34, placeholder: 'month=2021-01' }, defaults),
    ),
    el('label', { for: date }, 'Execution date (optional)', el('input', { id: date, name: 'executionDate', placeholder: '2021-01-01' })),
    el('button', { type: 'submit' }, `Run ${p.name}`),
    error,
  );
}

function backfillForm(p) {
  const n = (s) => `${s}-bf-${p.name}`;
  const error = el('p', { class: 'error', role: 'alert' });
  return el(
    'form',
    {
      class: 'inline',
      'aria-label': `Backfill ${p.name}`,
      onsubmit: async (e) => {
        e.preventDefault();
        const f = e.currentTarget.elements;
        try {
          const result = await post(`/api/pipelines/${encodeURIComponent(p.name)}/backfills`, {
            start: f.start.value,
            end: f.end.value,
            every: f.every.value,
            parallel: Number(f.parallel.value || 1),
            variables: parseVariables(f.variables.value),
          });
          location.hash = `#/backfills/${encodeURIComponent(result.backfillId)}`;
        } catch (err) {
          error.textContent = err.message;
        }
      },
    },
    el(
      'label',
      { for: n('start') },
      'Start',
      el('input', { id: n('start'), name: 'start', placeholder: '2021-01-01', required: true, size: 11 }),
    ),
    el(
      'label',
      { for: n('end') },
      'End (included)',
      el('input', { id: n('end'), name: 'end', placeholder: '2021-01-31', required: true, size: 11 }),
    ),
    el(
      'label',
      { for: n('every') },
      'Every',
      el('input', { id: n('every'), name: 'every', value: 'day', list: 'every-options', size: 10 }),
    ),
    el(
      'label',
      { for: n('parallel') },
      'At once',
      el('input', { id: n('parallel'), name: 'parallel', type: 'number', min: 1, max: 32, value: 1, style: undefined, size: 3 }),
    ),
    el(
      'label',
      { for: n('vars') },
      'Variables',
      el('textarea', { id: n('vars'), name: 'variables', rows: 1, cols: 24, placeholder: 'name=value' }),
    ),
    el('button', { type: 'submit', class: 'secondary' }, 'Start backfill'),
    error,
  );
}

function triggerList(p) {
  if (!p.triggers.length) return el('p', { class: 'muted' }, 'No triggers: runs start from here, the CLI or the API.');
  return el(
    'table',
    {},
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        el('th', {}, 'Trigger'),
        el('th', {}, 'Fires on'),
        el('th', {}, 'State'),
        el('th', {}, el('span', { class: 'sr' }, 'Action')),
      ),
    ),
    el(
      'tbody',
      {},
      p.triggers.map((t) =>
        el(
          'tr',
          {},
          el('td', {}, el('code', {}, t.name)),
          el(
            'td',
            {},
            t.type === 'schedule' ? `${t.schedule} (${t.timezone})` : t.type === 'gcs' ? `gs://${t.bucket}/${t.prefix}*` : 'API call',
          ),
          el(
            'td',
            {},
            el('span', { class: `status ${t.enabled ? 's-succeeded' : 's-cancelled'}` }, t.enabled ? '● enabled' : '○ disabled'),
            t.overridden ? el('span', { class: 'muted' }, ' (set in console)') : null,
          ),
          el(
            'td',
            {},
            el(
              'button',
              {
                type: 'button',
                class: 'secondary',
                onclick: async () => {
                  try {
                    await post(`/api/pipelines/${encodeURIComponent(p.name)}/triggers/${encodeURIComponent(t.name)}`, {
                      enabled: !t.enabled,
                    });
                    toast(`${t.name} ${t.enabled ? 'disabled' : 'enabled'}`);
                    document.dispatchEvent(new Event('refresh'));
                  } catch (err) {
                    toast(err.message);
                  }
                },
              },
              `${t.enabled ? 'Disable' : 'Enable'} ${t.name}`,
            ),
          ),
        ),
      ),
    ),
  );
}

/** Every pipeline: its DAG with the latest run's block statuses, triggers, and run/backfill forms. */
export async function pipelinesPage() {
  const pipelines = await get('/api/pipelines');
  const running = pipelines.some((p) => p.latestRun && ['queued', 'running'].includes(p.latestRun.status));
  const cards = pipelines.map((p) =>
    el(
      'section',
      { class: 'card', id: `pipeline-${p.name}`, 'aria-labelledby': `h-${p.name}` },
      el(
        'div',
        { class: 'row' },
        el('h2', { id: `h-${p.name}` }, p.name),
        p.latestRun
          ? el(
              'span',
              {},
              'latest run ',
              el('a', { href: `#/runs/${encodeURIComponent(p.latestRun.id)}` }, p.latestRun.id),
              ' ',
              statusBadge(p.latestRun.status),
              el('span', { class: 'muted' }, ` ${fmtDate(p.latestRun.executionDate)}`),
            )
          : el('span', { class: 'muted' }, 'never run'),
        el('a', { href: `#/runs?pipeline=${encodeURIComponent(p.name)}` }, 'all runs'),
      ),
      p.description ? el('p', { class: 'muted' }, p.description) : null,
      el('div', { class: 'scroll', id: `dag-${p.name}` }, dagSvg(p)),
      el('h3', {}, 'Triggers'),
      el('div', { id: `triggers-${p.name}` }, triggerList(p)),
      el('h3', {}, 'Run now'),
      runForm(p),
      el('h3', {}, 'Backfill'),
      backfillForm(p),
    ),
  );
  const live = Object.fromEntries(
    pipelines.flatMap((p) => [
      [`dag-${p.name}`, el('div', { class: 'scroll', id: `dag-${p.name}` }, dagSvg(p))],
      [`triggers-${p.name}`, el('div', { id: `triggers-${p.name}` }, triggerList(p))],
    ]),
  );
  return {
    nodes: [
      el('h1', {}, 'Pipelines'),
      pipelines.length ? cards : el('p', {}, 'No pipelines in this project yet: pipekit new pipeline <name>.'),
      el(
        'datalist',
        { id: 'every-options' },
        ['hour', 'day', 'week', 'month', '0 6 * * *'].map((v) => el('option', { value: v })),
      ),
    ],
    live,
    poll: running ? 1500 : 5000,
  };
}
