import { login } from './api.js';
import { el } from './ui.js';

let pending = null;

/** Shows a modal sign-in form; resolves once the token was accepted. */
export function askForToken() {
  if (pending) return pending;
  pending = new Promise((resolve, reject) => {
    const input = el('input', { type: 'password', name: 'token', id: 'token', autocomplete: 'current-password', required: true });
    const message = el('p', { class: 'error', role: 'alert' });
    const form = el(
      'form',
      { method: 'post', action: '/api/login' },
      el('h2', {}, 'Sign in'),
      el(
        'p',
        { class: 'muted' },
        'Paste the console token: on a laptop “pipekit console” prints it (also in .pipekit/console-token); in the cloud it is the <prefix>-api-token secret in Secret Manager.',
      ),
      el('label', { for: 'token' }, 'Console token', input),
      message,
      el(
        'div',
        { class: 'row' },
        el('button', { type: 'submit' }, 'Sign in'),
        el(
          'button',
          {
            type: 'button',
            class: 'secondary',
            onclick: () => {
              dialog.close();
            },
          },
          'Cancel',
        ),
      ),
    );
    const dialog = el('dialog', { 'aria-labelledby': 'login-title' }, form);
    form.querySelector('h2').id = 'login-title';
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        await login(input.value);
        dialog.close('ok');
      } catch (error) {
        message.textContent = error.message;
      }
    });
    dialog.addEventListener('close', () => {
      dialog.remove();
      pending = null;
      if (dialog.returnValue === 'ok') resolve();
      else reject(new Error('not signed in'));
      document.dispatchEvent(new CustomEvent('session-changed'));
    });
    document.body.append(dialog);
    dialog.showModal();
    input.focus();
  });
  return pending;
}
