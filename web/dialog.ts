/** A modal confirmation (<dialog>: focus is trapped and Escape cancels, by the browser). */
import { h } from './dom.js';

export function confirmDialog(title: string, message: string, action: string): Promise<boolean> {
  return new Promise((resolve) => {
    const cancel = h('button', { type: 'button', value: 'cancel' }, 'Cancel');
    const ok = h('button', { type: 'button', value: 'ok', class: 'danger' }, action);
    const dialog = h(
      'dialog',
      { class: 'confirm', 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-message' },
      h('h2', { id: 'confirm-title' }, title),
      h('p', { id: 'confirm-message' }, message),
      h('div', { class: 'actions' }, cancel, ok),
    );
    let answer = false;
    const done = (value: boolean) => {
      answer = value;
      dialog.close();
    };
    cancel.addEventListener('click', () => done(false));
    ok.addEventListener('click', () => done(true));
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(answer);
    });
    document.body.append(dialog);
    dialog.showModal();
    // The safe choice has focus first.
    cancel.focus();
  });
}
