// "My apps": a left-sidebar panel listing the user's published apps with their URL, who may open
// them, the last publish and where each is on its way to live (GET /n2a/apps; the states are
// explained in n2a_gitops/jupyter/app_state.py). It refreshes every few seconds while an app is
// deploying. Every value from the server is set with textContent, never as HTML.
import { Dialog, Notification, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import { launchIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import * as api from './api';
import { el, explain } from './dom';

export const PANEL_ID = 'n2a-my-apps';
const BUSY_REFRESH_MS = 3000; // while an app is deploying
const IDLE_REFRESH_MS = 60000; // otherwise, while the panel is shown

const STATE_WORDS: { [state: string]: string } = {
  unpushed: 'unpushed: committed, not on the remote yet',
  deploying: 'deploying: pushed, Argo CD is bringing it up',
  live: 'live',
  failing: 'failing',
  asleep: 'asleep: idle, wakes up on the next visit',
  pushed: 'pushed: its deployment state is unknown'
};

/** What the panel needs from the rest of the extension. */
export interface IMyAppsHost {
  publishAgain(row: api.IAppRow): Promise<void>;
  openGitPanel(): Promise<void>;
}

function when(iso: string | undefined): string {
  if (!iso) {
    return '';
  }
  const date = new Date(iso);
  return isNaN(date.getTime()) ? iso : date.toLocaleString();
}

function pre(lines: string[], className: string): HTMLElement {
  const node = el('pre', lines.join('\n'), className);
  return node;
}

export class MyAppsPanel extends Widget {
  private list: HTMLElement;
  private status: HTMLElement;
  private timer: number | null = null;
  private answer: api.IAppsAnswer | null = null;
  private loading = false;

  constructor(private host: IMyAppsHost) {
    super();
    this.id = PANEL_ID;
    this.addClass('jp-n2a-myapps');
    this.title.icon = launchIcon;
    this.title.caption = 'My apps: your published notebook apps';
    const header = el('div', undefined, 'jp-n2a-myapps-header');
    header.appendChild(el('h2', 'My apps'));
    const refresh = el('button', 'Refresh', 'jp-mod-styled jp-n2a-myapps-refresh');
    refresh.addEventListener('click', () => void this.refresh());
    header.appendChild(refresh);
    this.node.appendChild(header);
    this.status = el('div', undefined, 'jp-n2a-myapps-status');
    this.node.appendChild(this.status);
    this.list = el('div', undefined, 'jp-n2a-myapps-list');
    this.node.appendChild(this.list);
  }

  /** The last answer's rows (the publish notification reads the push ability from it). */
  get rows(): api.IAppRow[] {
    return this.answer?.apps ?? [];
  }

  protected onAfterShow(): void {
    void this.refresh();
  }

  protected onBeforeHide(): void {
    this.stop();
  }

  dispose(): void {
    this.stop();
    super.dispose();
  }

  private stop(): void {
    if (this.timer !== null) {
      window.clearTimeout(this.timer);
      this.timer = null;
    }
  }

  async refresh(): Promise<void> {
    if (this.loading) {
      return;
    }
    this.loading = true;
    this.stop();
    try {
      this.answer = await api.apps();
      this.render(this.answer);
    } catch (error) {
      this.status.textContent = '';
      this.status.appendChild(el('p', explain(error), 'jp-n2a-error'));
      this.list.textContent = '';
    } finally {
      this.loading = false;
    }
    const busy = this.rows.some(row => row.state === 'deploying');
    if (this.isVisible) {
      this.timer = window.setTimeout(() => void this.refresh(), busy ? BUSY_REFRESH_MS : IDLE_REFRESH_MS);
    }
  }

  private render(answer: api.IAppsAnswer): void {
    this.status.textContent = '';
    this.list.textContent = '';
    if (answer.argocd) {
      const note = el('p', undefined, 'jp-n2a-hint jp-n2a-myapps-argocd');
      note.textContent = `${answer.argocd.error}. ${answer.argocd.fix}.`;
      this.status.appendChild(note);
    }
    if (!answer.apps.length) {
      this.list.appendChild(
        el('p', 'No apps yet. Open a notebook and press "Publish as app".', 'jp-n2a-hint jp-n2a-myapps-empty')
      );
      return;
    }
    for (const row of answer.apps) {
      this.list.appendChild(this.card(row));
    }
  }

  private card(row: api.IAppRow): HTMLElement {
    const state = row.state ?? 'pushed';
    const card = el('div', undefined, `jp-n2a-app-card jp-n2a-state-${state}`);
    card.dataset.app = row.app;
    const top = el('div', undefined, 'jp-n2a-app-top');
    top.appendChild(el('span', row.app, 'jp-n2a-app-name'));
    const badge = el('span', state, `jp-n2a-badge jp-n2a-badge-${state}`);
    badge.title = STATE_WORDS[state] ?? state;
    top.appendChild(badge);
    card.appendChild(top);
    card.appendChild(el('div', row.url, 'jp-n2a-app-url'));
    const who = row.access_words || row.access || '';
    if (who) {
      card.appendChild(el('div', `Who may open it: ${who}`, 'jp-n2a-app-access'));
    }
    const last = row.last_commit;
    card.appendChild(
      el(
        'div',
        last ? `Last publish: ${when(last.date)} (${last.sha.slice(0, 8)})` : 'Not committed yet',
        'jp-n2a-app-last'
      )
    );
    if (state === 'unpushed') {
      card.appendChild(el('div', 'Push the GitOps clone to deploy it.', 'jp-n2a-hint'));
    }
    if (state === 'failing') {
      const box = el('div', undefined, 'jp-n2a-app-failure');
      const tb = row.traceback;
      box.appendChild(
        el(
          'p',
          tb?.cell
            ? `It fails in your notebook at ${tb.cell}.`
            : row.message || `Argo CD reports ${row.health ?? 'a failure'}.`,
          'jp-n2a-app-failure-where'
        )
      );
      if (tb?.lines.length) {
        box.appendChild(pre(tb.lines, 'jp-n2a-traceback'));
      }
      card.appendChild(box);
    }
    const actions = el('div', undefined, 'jp-n2a-app-actions');
    const button = (label: string, action: () => Promise<void>, className: string) => {
      const node = el('button', label, `jp-mod-styled jp-n2a-app-action ${className}`);
      node.addEventListener('click', () => void action().catch(error => showErrorMessage(label, explain(error))));
      actions.appendChild(node);
    };
    if (state === 'live' || state === 'asleep') {
      button('Open', async () => void window.open(row.url, '_blank', 'noopener'), 'jp-n2a-open jp-mod-accept');
    }
    if (state === 'unpushed') {
      button('Push…', () => this.host.openGitPanel(), 'jp-n2a-push');
    }
    if (state !== 'unpushed') {
      button('Logs', () => this.showLogs(row), 'jp-n2a-logs');
    }
    button('History', () => this.showHistory(row), 'jp-n2a-history');
    button('Publish again', () => this.host.publishAgain(row), 'jp-n2a-again');
    button('Delete', () => this.remove(row), 'jp-n2a-delete jp-mod-warn');
    card.appendChild(actions);
    return card;
  }

  private get canPush(): boolean {
    return this.answer?.dialog?.push.possible ?? false;
  }

  private async showLogs(row: api.IAppRow): Promise<void> {
    const logs = await api.appLogs(row.app, 200);
    const body = new Widget();
    body.addClass('jp-n2a-logs-body');
    if (!logs.lines.length) {
      body.node.appendChild(el('p', 'The pods printed nothing yet.', 'jp-n2a-hint'));
    }
    const several = new Set(logs.lines.map(line => line.pod)).size > 1;
    body.node.appendChild(
      pre(
        logs.lines.map(line => (several ? `[${line.pod}] ${line.content}` : line.content)),
        'jp-n2a-log-lines'
      )
    );
    await showDialog({ title: `Logs of ${row.app} (last lines)`, body, buttons: [Dialog.okButton({ label: 'Close' })] });
  }

  private async showHistory(row: api.IAppRow): Promise<void> {
    const history = await api.appHistory(row.app);
    const body = new Widget();
    body.addClass('jp-n2a-history-body');
    const table = el('table', undefined, 'jp-n2a-history-table');
    let chosen: string | null = null;
    history.commits.forEach((commit, index) => {
      const tr = el('tr');
      tr.appendChild(el('td', when(commit.date)));
      tr.appendChild(el('td', commit.message));
      const td = el('td');
      if (index > 0) {
        const back = el('button', 'Roll back to this', 'jp-mod-styled jp-n2a-rollback');
        back.addEventListener('click', () => {
          chosen = commit.sha;
          // Close the history with its accept button: the confirmation follows.
          (body.node.closest('.jp-Dialog')?.querySelector('.jp-mod-accept') as HTMLElement | null)?.click();
        });
        td.appendChild(back);
      } else {
        td.appendChild(el('span', 'current', 'jp-n2a-hint'));
      }
      tr.appendChild(td);
      table.appendChild(tr);
    });
    body.node.appendChild(table);
    await showDialog({ title: `History of ${row.app}`, body, buttons: [Dialog.okButton({ label: 'Close' })] });
    if (chosen === null) {
      return;
    }
    const sha: string = chosen;
    if (!(await this.confirm(`Roll ${row.app} back to ${sha.slice(0, 8)}?`, 'a new commit restores the app as it was then'))) {
      return;
    }
    const done = await api.rollback(row.app, sha, this.canPush);
    this.report(done, `${row.app} rolled back to ${sha.slice(0, 8)}`);
  }

  private async remove(row: api.IAppRow): Promise<void> {
    if (!(await this.confirm(`Delete ${row.app}?`, 'a new commit removes it; History can bring it back'))) {
      return;
    }
    const done = await api.deleteApp(row.app, this.canPush);
    this.report(done, `${row.app} deleted`);
  }

  private async confirm(title: string, what: string): Promise<boolean> {
    const push = this.canPush;
    const result = await showDialog({
      title,
      body: `This makes ${what}${push ? ', and pushes it: Argo CD applies it within minutes.' : '. Push it from the Git panel.'}`,
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: push ? 'Commit and push' : 'Commit' })]
    });
    return result.button.accept;
  }

  private report(done: api.IChange, what: string): void {
    const how = !done.commit ? ': nothing to change' : done.pushed ? ' and pushed' : ', committed; push it to deploy';
    Notification.success(`${what}${how}.`, { autoClose: 8000 });
    void this.refresh();
  }
}
