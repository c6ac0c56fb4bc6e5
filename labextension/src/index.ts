// "Publish as app" (a notebook toolbar button, a File menu item, a palette command) and "My apps"
// (a left-sidebar panel, command n2a:my-apps). Publishing saves the notebook, shows the dry run's
// plan, and then either publishes and deploys (commit and push, when the clone's remote takes a
// push from here; the notification then follows the app until it is live) or commits only (the
// Git panel's Push sends it on its way).
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { Dialog, ICommandPalette, Notification, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { IMainMenu } from '@jupyterlab/mainmenu';
import { INotebookModel, INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { CommandToolbarButton } from '@jupyterlab/ui-components';
import { DisposableDelegate, IDisposable } from '@lumino/disposable';

import * as api from './api';
import { explain } from './dom';
import { followDeployment } from './follow';
import { MyAppsPanel, PANEL_ID } from './myapps';
import { choiceFromRow, defaultKept, IKeptChoice, initialChoice, IPlanChoice, keptDiffer, keptFromCurrent } from './choice';
import { PlanBody } from './plan';

const COMMAND = 'n2a:publish';
const MY_APPS = 'n2a:my-apps';
const GIT_PANEL_ID = 'jp-git-sessions'; // jupyterlab-git's side panel

// The keys servers accepted before they listed their options in GET /n2a/repo.
const LEGACY_OPTIONS = ['notebook', 'repo', 'name', 'owner', 'framework', 'requirements', 'env', 'include', 'push'];

async function openGitPanel(app: JupyterFrontEnd, browser: IDefaultFileBrowser | null, repo: string | null): Promise<void> {
  if (repo === null) {
    await showErrorMessage(
      'Open Git panel',
      'The GitOps clone lies outside the Jupyter root, so the Git panel cannot reach it.\n\n' +
        'Fix: push from a terminal (git -C <clone> push).'
    );
    return;
  }
  if (browser) {
    await browser.model.cd('/' + repo); // the Git panel acts on the file browser's folder
  }
  if (!Array.from(app.shell.widgets('left')).some(w => w.id === GIT_PANEL_ID)) {
    await showErrorMessage(
      'Open Git panel',
      'The Git panel (jupyterlab-git) is not installed.\n\nFix: ask your admin to install jupyterlab-git, or push from a terminal.'
    );
    return;
  }
  app.shell.activateById(GIT_PANEL_ID);
}

/** "2" -> 2; anything that is not a whole number goes as typed, for the server to explain. */
function whole(text: string): number | string {
  return /^\d+$/.test(text) ? Number(text) : text;
}

async function publishNotebook(
  app: JupyterFrontEnd,
  browser: IDefaultFileBrowser | null,
  panel: NotebookPanel,
  showApps: () => void,
  start: api.IAppRow | null = null
): Promise<void> {
  await panel.context.save(); // n2a reads the file on disk: unsaved edits would be left out
  const notebook = panel.context.path;
  let info: api.IRepoInfo;
  try {
    info = await api.repoInfo(notebook);
  } catch (error) {
    await showErrorMessage('Publish as app', explain(error));
    return;
  }
  const known = info.options ?? LEGACY_OPTIONS;
  const accepts = (key: string) => known.includes(key);
  // The user's apps and what the platform can do; not worth waiting long for.
  const answer = await Promise.race([
    api.apps(notebook).catch(() => null),
    new Promise<null>(resolve => setTimeout(() => resolve(null), 10_000))
  ]);
  const platform = answer?.dialog ?? null;
  const pushable = Boolean(info.service) || (accepts('push') && (platform?.push.possible ?? false));
  const presets = platform?.presets ?? [];
  let detected: string | null = null;
  const folder = notebook.includes('/') ? notebook.slice(0, notebook.lastIndexOf('/') + 1) : '';
  // What the app has before this publish (its current access, secrets and size; the platform's
  // defaults for a new app). Only what the user changed from it is sent: the server keeps the
  // rest, so re-publishing never changes who may open an app by accident.
  let origin: IKeptChoice | null = null;
  let originApp: string | null = null;
  const request = (choice: IPlanChoice | null, publishing: boolean, push = false): api.IPublishOptions => {
    const body: api.IPublishOptions = { notebook };
    if (info.repo !== null) {
      body.repo = info.repo;
    }
    if (choice === null) {
      return body;
    }
    if (choice.name) {
      body.name = choice.name;
    }
    if (choice.framework && choice.framework !== detected) {
      body.framework = choice.framework;
    }
    const changed = origin ? keptDiffer(choice, origin) : new Set(['access', 'secret_env', 'resources']);
    if (accepts('access') && choice.access && changed.has('access')) {
      body.access = choice.access;
    }
    if (accepts('secret_env') && changed.has('secret_env') && (choice.secretEnv.length || origin?.secretEnv.length)) {
      body.secret_env = choice.secretEnv.map(row => `${row.name}=${row.ref}`); // [] removes them all
    }
    const preset = presets.find(p => p.name === choice.size);
    const platform_ = info.resources?.limits ?? {};
    const back = choice.size === '' && changed.has('resources') && origin !== null && origin.size !== ''; // back to the default
    const resized = changed.has('resources');
    const cpu = !resized ? '' : preset ? preset.cpu : choice.size === 'custom' ? choice.cpu : back ? String(platform_.cpu ?? '') : '';
    const memory = !resized
      ? ''
      : preset
        ? preset.memory
        : choice.size === 'custom'
          ? choice.memory
          : back
            ? String(platform_.memory ?? '')
            : '';
    if (accepts('cpu') && cpu) {
      body.cpu = cpu;
    }
    if (accepts('memory') && memory) {
      body.memory = memory;
    }
    if (resized && choice.size === 'custom' && accepts('gpu') && choice.gpu) {
      body.gpu = whole(choice.gpu);
    }
    if (resized && choice.size === 'custom' && accepts('replicas') && choice.replicas) {
      body.replicas = whole(choice.replicas);
    }
    if (accepts('include') && choice.include.length) {
      body.include = choice.include.map(path => folder + path); // the server takes root-relative paths
    }
    if (info.scaleToZero && choice.alwaysOn && accepts('always_on')) {
      body.always_on = true;
    } else if (info.scaleToZero && choice.idle && choice.idle !== info.idleAfter && accepts('idle')) {
      body.idle = choice.idle;
    }
    if (publishing && accepts('check') && choice.check) {
      body.check = true; // the check runs the app: at publish only, so "Update plan" stays quick
    }
    if (publishing && push && accepts('push') && !info.service) {
      body.push = true;
    }
    return body;
  };

  const checkByDefault = accepts('check');
  let choice: IPlanChoice | null = start ? choiceFromRow(start, presets, checkByDefault) : null;
  let plan: api.IPublishResult | null = null;
  let planned = ''; // the request the shown plan answers
  let error: Error | null = null;
  let errorFromPlan = false; // a refused plan must be planned again; a failed publish need not
  try {
    plan = await api.plan(request(choice, false));
    detected = start ? null : plan.framework;
  } catch (failure) {
    if (!(failure instanceof api.N2AError) || failure.status === 0) {
      await showErrorMessage('Publish as app: plan', explain(failure));
      return;
    }
    error = failure; // e.g. two frameworks match: the dialog lets the user pick one
    errorFromPlan = true;
  }
  let current: IPlanChoice = choice ?? initialChoice(plan, info, checkByDefault);
  // Start from what the app has: its kept choices become the form's and the baseline.
  const adopt = (answer: api.IPublishResult) => {
    const base = defaultKept(answer, info);
    const next = answer.current ? keptFromCurrent(answer.current, presets, info, base) : base;
    if (origin === null || originApp !== answer.app) {
      const keep = origin === null ? new Set<string>() : keptDiffer(current, origin); // what the user changed
      current = {
        ...current,
        ...(keep.has('access') ? {} : { access: next.access }),
        ...(keep.has('secret_env') ? {} : { secretEnv: next.secretEnv }),
        ...(keep.has('resources')
          ? {}
          : { size: next.size, cpu: next.cpu, memory: next.memory, gpu: next.gpu, replicas: next.replicas })
      };
      origin = next;
      originApp = answer.app;
    }
  };
  if (plan) {
    adopt(plan); // My apps' "Publish again" too: the plan's current values win over the row's
    planned = JSON.stringify(request(current, false));
  } else {
    origin = defaultKept(null, info); // what the user types before a plan succeeds is theirs to keep
  }
  let anyway = false; // the user pressed publish once with the plan's warnings shown
  let published: api.IPublishResult | null = null;
  while (published === null) {
    const warned = (plan?.warnings.length ?? 0) > 0;
    const mainLabel = warned && anyway ? 'Publish anyway' : pushable ? 'Publish and deploy' : 'Commit';
    const commitLabel = warned && anyway ? 'Commit only, anyway' : 'Commit only';
    const buttons = [Dialog.cancelButton(), Dialog.createButton({ label: 'Update plan', accept: true })];
    if (pushable && !info.service) {
      buttons.push(Dialog.createButton({ label: commitLabel, accept: true, displayType: 'default' }));
    }
    buttons.push(Dialog.okButton({ label: mainLabel, displayType: warned ? 'warn' : 'default' }));
    const result: Dialog.IResult<IPlanChoice> = await showDialog<IPlanChoice>({
      title: `Publish "${notebook}" as an app`,
      body: new PlanBody({
        plan,
        stale: plan !== null && planned !== JSON.stringify(request(current, false)),
        error,
        choice: current,
        info,
        platform,
        accepts,
        published: answer?.apps ?? [],
        anyway: warned && anyway
      }),
      buttons,
      defaultButton: buttons.length - 1
    });
    if (!result.button.accept || result.value === null) {
      return;
    }
    current = result.value;
    const asked = JSON.stringify(request(current, false));
    const label = result.button.label;
    const publishing = label === mainLabel || label === commitLabel;
    // Publish only what the user saw planned: after an edit (or a refused plan), plan again first.
    if (publishing && plan !== null && !errorFromPlan && asked === planned) {
      if (warned && !anyway) {
        anyway = true; // a second, explicit click is needed to publish with warnings left
        continue;
      }
      const push = pushable && label === mainLabel;
      const pending = Notification.emit(`${push ? 'Publishing and pushing' : 'Committing'} ${notebook}…`, 'in-progress', {
        autoClose: false
      });
      try {
        published = await api.publish(request(current, true, push));
      } catch (failure) {
        error = failure instanceof Error ? failure : new Error(String(failure));
        errorFromPlan = false;
      } finally {
        Notification.dismiss(pending);
      }
      continue;
    }
    try {
      const body = request(current, false);
      plan = await api.plan(body);
      if (detected === null && body.framework === undefined) {
        detected = plan.framework; // only what n2a found by itself counts as detected
      }
      adopt(plan);
      planned = JSON.stringify(request(current, false));
      error = null;
      errorFromPlan = false;
      anyway = false;
    } catch (failure) {
      error = failure instanceof Error ? failure : new Error(String(failure));
      errorFromPlan = true;
    }
  }
  notifyPublished(app, browser, info, published, showApps);
}

function notifyPublished(
  app: JupyterFrontEnd,
  browser: IDefaultFileBrowser | null,
  info: api.IRepoInfo,
  done: api.IPublishResult,
  showApps: () => void
): void {
  const commit = done.commit ? done.commit.slice(0, 8) : null;
  const checked = done.check?.passed ? ' It ran in the check.' : '';
  // Notifications cut messages at 140 characters: the URL (it names the app) comes first.
  const left = done.warnings.length
    ? ` ${done.warnings.length} warning${done.warnings.length > 1 ? 's' : ''} left: ${done.warnings[0]}`
    : '';
  if (!done.changed) {
    Notification.success(`${done.url} is unchanged: nothing to commit.${checked}`, { autoClose: 8000 });
    return;
  }
  if (done.pushed) {
    const id = Notification.emit(`${done.app} pushed (commit ${commit}), deploying…${left}`, 'in-progress', {
      autoClose: false
    });
    followDeployment(id, done, left, showApps);
    return;
  }
  const actions: Notification.IAction[] = [
    {
      label: 'Open Git panel',
      caption: 'Show the GitOps clone in the Git panel, where Push sends the commit',
      displayType: 'accent',
      callback: () => void openGitPanel(app, browser, info.repo)
    },
    { label: 'My apps', caption: 'Follow it in My apps', callback: showApps }
  ];
  const type = done.warnings.length ? 'warning' : 'success';
  Notification.emit(`${done.url} committed as ${commit}.${checked} Push it to deploy.${left}`, type, {
    autoClose: false,
    actions
  });
}

/** Adds the toolbar button to every notebook panel. */
class ToolbarButtonExtension implements DocumentRegistry.IWidgetExtension<NotebookPanel, INotebookModel> {
  constructor(private app: JupyterFrontEnd) {}

  createNew(panel: NotebookPanel): IDisposable {
    const button = new CommandToolbarButton({ commands: this.app.commands, id: COMMAND, label: 'Publish as app' });
    button.addClass('jp-n2a-toolbar-button');
    panel.toolbar.insertItem(10, 'n2a-publish', button);
    return new DisposableDelegate(() => button.dispose());
  }
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'n2a-gitops:plugin',
  description: 'Publish the open notebook as an app through the GitOps repository; follow your apps in My apps.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ICommandPalette, IMainMenu, IDefaultFileBrowser],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    palette: ICommandPalette | null,
    mainMenu: IMainMenu | null,
    browser: IDefaultFileBrowser | null
  ) => {
    const showApps = () => {
      app.shell.activateById(PANEL_ID);
      void myApps.refresh();
    };
    const myApps = new MyAppsPanel({
      openGitPanel: async () => {
        const answer = await api.apps();
        await openGitPanel(app, browser, answer.repo);
      },
      publishAgain: async (row: api.IAppRow) => {
        let found: NotebookPanel | null = null;
        tracker.forEach(panel => {
          if (!found && row.notebook && panel.context.path.split('/').pop() === row.notebook) {
            found = panel;
          }
        });
        if (!found) {
          await showErrorMessage(
            'Publish again',
            `Open the notebook ${row.notebook || 'this app was published from'} first, then press Publish again.`
          );
          return;
        }
        app.shell.activateById((found as NotebookPanel).id);
        await publishNotebook(app, browser, found, showApps, row);
      }
    });
    app.shell.add(myApps, 'left', { rank: 650 });

    app.commands.addCommand(COMMAND, {
      label: 'Publish as app',
      caption: 'Publish this notebook as a web app (through the GitOps repository)',
      isEnabled: () => tracker.currentWidget !== null,
      execute: async () => {
        const panel = tracker.currentWidget;
        if (panel) {
          await publishNotebook(app, browser, panel, showApps);
        }
      }
    });
    app.commands.addCommand(MY_APPS, {
      label: 'My apps',
      caption: 'Show your published apps: deploying, live or failing',
      execute: showApps
    });
    tracker.currentChanged.connect(() => app.commands.notifyCommandChanged(COMMAND));
    app.docRegistry.addWidgetExtension('Notebook', new ToolbarButtonExtension(app));
    palette?.addItem({ command: COMMAND, category: 'Notebook Operations' });
    palette?.addItem({ command: MY_APPS, category: 'Notebook Operations' });
    mainMenu?.fileMenu.addGroup([{ command: COMMAND }, { command: MY_APPS }], 40);
  }
};

export default plugin;
