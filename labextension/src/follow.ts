// After "Publish and deploy": one notification that follows the app from pushed to deploying to
// live (with Open), or says why it fails (the notebook cell of the last traceback), by asking the
// server (GET /n2a/apps/APP) every few seconds. The server asks Argo CD; the browser never does.
import { Notification } from '@jupyterlab/apputils';

import * as api from './api';

const POLL_MS = 3000;
const GIVE_UP_MS = 15 * 60 * 1000; // Argo CD polls git every 3 minutes; a slow image pull adds more

function progress(row: api.IAppRow): string {
  const parts = [row.sync, row.health].filter(p => p);
  return parts.length ? ` (Argo CD: ${parts.join(', ')})` : ' (waiting for Argo CD to pick it up)';
}

/** Follow APP in the notification ID until it is live or failing; LEFT: what the publish left. */
export function followDeployment(
  id: string,
  published: api.IPublishResult,
  left: string,
  showApps: () => void
): void {
  const app = published.app;
  const started = Date.now();
  const open: Notification.IAction = {
    label: 'Open',
    caption: published.url,
    displayType: 'accent',
    callback: () => void window.open(published.url, '_blank', 'noopener')
  };
  const myApps: Notification.IAction = { label: 'My apps', caption: 'Show My apps', callback: showApps };
  const tick = async () => {
    let row: api.IAppRow | null = null;
    try {
      row = await api.appState(app);
    } catch (error) {
      if (error instanceof api.N2AError && error.status >= 400 && error.status < 500) {
        // This server cannot follow it (no local clone: the hub's publish service pushed it).
        Notification.update({
          id,
          message: `${app} pushed; this server cannot follow it: ${error.message}.${left}`,
          type: 'info',
          autoClose: false,
          actions: [open]
        });
        return;
      }
      row = null; // a hiccup of the server (or Argo CD): try again on the next tick
    }
    const state = row?.state;
    if (row && state === 'live') {
      Notification.update({
        id,
        message: `${published.url} is live.${left}`,
        type: 'success',
        autoClose: false,
        actions: [open, myApps]
      });
      return;
    }
    if (row && state === 'failing') {
      const where = row.traceback?.cell ? ` It fails at ${row.traceback.cell} of your notebook.` : ` ${row.message ?? ''}`;
      Notification.update({ id, message: `${app} is failing.${where}`, type: 'error', autoClose: false, actions: [myApps] });
      return;
    }
    if (row && state === 'pushed') {
      const why = (row as any).argocd?.error ?? 'this server cannot ask Argo CD';
      Notification.update({
        id,
        message: `${app} pushed; whether it is live is unknown: ${why}.${left}`,
        type: 'info',
        autoClose: false,
        actions: [open, myApps]
      });
      return;
    }
    if (Date.now() - started > GIVE_UP_MS) {
      Notification.update({
        id,
        message: `${app} is still not live after ${Math.round(GIVE_UP_MS / 60000)} minutes${row ? progress(row) : ''}.`,
        type: 'warning',
        autoClose: false,
        actions: [myApps]
      });
      return;
    }
    Notification.update({
      id,
      message: `${app} pushed, deploying${row ? progress(row) : ''}…${left}`,
      type: 'in-progress',
      autoClose: false,
      actions: [myApps]
    });
    window.setTimeout(() => void tick(), POLL_MS);
  };
  void tick();
}
