import { get, post } from './api.js';
import { el } from './ui.js';
import { pipelinesPage } from './page-pipelines.js';
import { runsPage, runPage } from './page-runs.js';
import { backfillsPage, backfillPage } from './page-backfills.js';

const main = document.getElementById('main');
let timer = null;
let generation = 0;

/** Hash routes: #/ , #/runs?pipeline=&status= , #/runs/<id> , #/backfills , #/backfills/<id> */
function route() {
  const [path, search = ''] = location.hash.replace(/^#/, '').split('?');
  const query = new URLSearchParams(search);
  const parts = (path || '/').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'runs' && parts[1]) return { page: runPage, args: [parts[1], query], nav: 'runs' };
  if (parts[0] === 'runs') return { page: runsPage, args: [query], nav: 'runs' };
  if (parts[0] === 'backfills' && parts[1]) return { page: backfillPage, args: [parts[1]], nav: 'backfills' };
  if (parts[0] === 'backfills') return { page: backfillsPage, args: [query], nav: 'backfills' };
  return { page: pipelinesPage, args: [query], nav: '' };
}

/** Renders the page; a page returning `{ poll: ms }` is re-rendered in place until it stops asking. */
async function render(first = true) {
  clearTimeout(timer);
  const mine = ++generation;
  const { page, args, nav } = route();
  for (const a of document.querySelectorAll('nav a')) {
    if (a.getAttribute('href') === `#/${nav}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  try {
    const view = await page(...args);
    if (mine !== generation) return;
    // Keep focus and form input across polling refreshes: only the live parts are swapped.
    const active = document.activeElement?.id;
    if (first || !view.live) main.replaceChildren(...view.nodes.flat());
    else for (const [id, node] of Object.entries(view.live)) document.getElementById(id)?.replaceWith(node);
    if (active && !main.contains(document.activeElement)) document.getElementById(active)?.focus();
    if (first) main.focus({ preventScroll: true });
    if (view.poll) timer = setTimeout(() => render(false), view.poll);
  } catch (error) {
    if (mine !== generation) return;
    main.replaceChildren(
      el('h1', {}, 'Something went wrong'),
      el('p', { class: 'error', role: 'alert' }, error.message),
      error.hint ? el('p', { class: 'muted' }, error.hint) : null,
    );
  }
}

async function showSession() {
  const who = document.getElementById('who');
  try {
    const s = await get('/api/session');
    who.replaceChildren(
      `${s.mode} · profile ${s.profile} · `,
      s.signedIn
        ? el(
            'button',
            {
              class: 'secondary',
              type: 'button',
              onclick: async () => {
                await post('/api/logout');
                showSession();
              },
            },
            'Sign out',
          )
        : 'read-only until you sign in',
    );
  } catch {
    who.textContent = '';
  }
}

window.addEventListener('hashchange', () => render(true));
document.addEventListener('session-changed', showSession);
document.addEventListener('refresh', () => render(false));
showSession();
render(true);
