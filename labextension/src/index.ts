// "Publish as app": a notebook toolbar button, a File menu item and a palette command. It saves
// the notebook, shows the dry run's plan, publishes (a local git commit in the GitOps clone)
// and then points the user at the Git panel, whose Push button sends the commit on its way.
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  Notification,
  showDialog,
  showErrorMessage
} from '@jupyterlab/apputils';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { IMainMenu } from '@jupyterlab/mainmenu';
import {
  INotebookModel,
  INotebookTracker,
  NotebookPanel
} from '@jupyterlab/notebook';
import { CommandToolbarButton } from '@jupyterlab/ui-components';
import { DisposableDelegate, IDisposable } from '@lumino/disposable';

import * as api from './api';
import { IPlanChoice, initialChoice, PlanBody } from './plan';

const COMMAND = 'n2a:publish';
const GIT_PANEL_ID = 'jp-git-sessions'; // jupyterlab-git's side panel

function explain(error: unknown): string {
  if (error instanceof api.N2AError) {
    return error.fix ? `${error.message}\n\nFix: ${error.fix}` : error.message;
  }
  return String(error);
}

async function openGitPanel(
  app: JupyterFrontEnd,
  browser: IDefaultFileBrowser | null,
  info: api.IRepoInfo
): Promise<void> {
  if (info.repo === null) {
    await showErrorMessage(
      'Open Git panel',
      `The GitOps clone ${info.path} lies outside the Jupyter root, so the Git panel cannot reach it.\n\n` +
        'Fix: push from a terminal (git -C <clone> push), or use `n2a publish --push`.'
    );
    return;
  }
  // The Git panel acts on the file browser's current folder: go to the clone first.
  if (browser) {
    await browser.model.cd('/' + info.repo);
  }
  if (!Array.from(app.shell.widgets('left')).some(w => w.id === GIT_PANEL_ID)) {
    await showErrorMessage(
      'Open Git panel',
      'The Git panel (jupyterlab-git) is not installed.\n\n' +
        'Fix: ask your admin to install jupyterlab-git, or push from a terminal.'
    );
    return;
  }
  app.shell.activateById(GIT_PANEL_ID);
}

// The keys servers accepted before they listed their options in GET /n2a/repo.
const LEGACY_OPTIONS = ['notebook', 'repo', 'name', 'owner', 'framework', 'requirements', 'env', 'include', 'push'];

/** "2" -> 2; anything that is not a whole number goes as typed, for the server to explain. */
function whole(text: string): number | string {
  return /^\d+$/.test(text) ? Number(text) : text;
}

async function publishNotebook(
  app: JupyterFrontEnd,
  browser: IDefaultFileBrowser | null,
  panel: NotebookPanel
): Promise<void> {
  // n2a reads the file on disk: unsaved edits would silently be left out.
  await panel.context.save();
  const notebook = panel.context.path;
  let info: api.IRepoInfo;
  try {
    info = await api.repoInfo(notebook);
  } catch (error) {
    await showErrorMessage('Publish as app', explain(error));
    return;
  }
  // Only keys the server lists are ever sent: an option it does not know yet (an older server,
  // the hub's publish service) is not offered in the dialog at all.
  const known = info.options ?? LEGACY_OPTIONS;
  const accepts = (key: string) => known.includes(key);
  // The framework n2a detects on its own; sent only when the user picks another, so the plan
  // keeps explaining the detection instead of saying "chosen with --framework".
  let detected: string | null = null;
  const request = (choice: IPlanChoice | null, publishing: boolean): api.IPublishOptions => {
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
    if (accepts('access') && choice.access) {
      body.access = choice.access;
    }
    if (accepts('secret_env') && choice.secretEnv.length) {
      body.secret_env = choice.secretEnv.map(row => `${row.name}=${row.ref}`);
    }
    if (accepts('cpu') && choice.cpu) {
      body.cpu = choice.cpu;
    }
    if (accepts('memory') && choice.memory) {
      body.memory = choice.memory;
    }
    if (accepts('gpu') && choice.gpu) {
      body.gpu = whole(choice.gpu);
    }
    if (accepts('replicas') && choice.replicas) {
      body.replicas = whole(choice.replicas);
    }
    // The check runs the app: at Publish only, so "Update plan" stays quick.
    if (publishing && accepts('check') && choice.check) {
      body.check = true;
    }
    return body;
  };

  // Plan, let the user adjust the choices, plan again, until they publish or cancel. A refusal
  // (of a plan or of the publish) is shown in the dialog, above the user's choices, kept as typed.
  // The apps already in the clone: re-publishing one, the dialog says what this publish changes.
  // Not worth waiting long for: after 10 s the dialog goes without the comparison.
  const committed = Promise.race([
    api.apps(notebook).then(
      answer => answer.apps ?? [],
      () => [] as api.IAppRow[] // no clone here (the hub's service publishes): nothing to compare
    ),
    new Promise<api.IAppRow[]>(resolve => setTimeout(() => resolve([]), 10_000))
  ]);
  let plan: api.IPublishResult | null = null;
  let planned = ''; // the request the shown plan answers
  let error: Error | null = null;
  try {
    plan = await api.plan(request(null, false));
    detected = plan.framework;
  } catch (failure) {
    if (!(failure instanceof api.N2AError) || failure.status === 0) {
      await showErrorMessage('Publish as app: plan', explain(failure));
      return;
    }
    error = failure; // e.g. two frameworks match: the dialog lets the user pick one
  }
  let choice = initialChoice(plan, info);
  if (plan) {
    planned = JSON.stringify(request(choice, false));
  }
  let published: api.IPublishResult | null = null;
  while (published === null) {
    const result = await showDialog<IPlanChoice>({
      title: `Publish "${notebook}" as an app`,
      body: new PlanBody({
        plan,
        stale: plan !== null && planned !== JSON.stringify(request(choice, false)),
        error,
        choice,
        info,
        accepts,
        published: await committed
      }),
      buttons: [
        Dialog.cancelButton(),
        Dialog.createButton({ label: 'Update plan', accept: true }),
        Dialog.okButton({ label: 'Publish' })
      ],
      defaultButton: 2
    });
    if (!result.button.accept || result.value === null) {
      return;
    }
    choice = result.value;
    const asked = JSON.stringify(request(choice, false));
    // Publish only what the user saw planned: after an edit, plan again first.
    if (result.button.label === 'Publish' && plan !== null && error === null && asked === planned) {
      const pending = Notification.emit(`Publishing ${notebook}…`, 'in-progress', {
        autoClose: false
      });
      try {
        published = await api.publish(request(choice, true));
      } catch (failure) {
        error = failure instanceof Error ? failure : new Error(String(failure));
      } finally {
        Notification.dismiss(pending);
      }
      continue;
    }
    try {
      const body = request(choice, false);
      plan = await api.plan(body);
      if (detected === null && body.framework === undefined) {
        detected = plan.framework; // only what n2a found by itself counts as detected
      }
      planned = asked;
      error = null;
    } catch (failure) {
      error = failure instanceof Error ? failure : new Error(String(failure));
    }
  }

  const commit = published.commit ? published.commit.slice(0, 8) : null;
  // Notifications cut messages at 140 characters: the URL (it names the app) comes first.
  const checked = published.check?.passed ? ' It ran in the check.' : '';
  const what = !published.changed
    ? `${published.url} is unchanged: nothing to commit.${checked}`
    : published.pushed
      ? `${published.url} published: commit ${commit} pushed.${checked}`
      : `${published.url} committed as ${commit}.${checked} Push it from the Git panel to deploy.`;
  const done = published;
  const actions: Notification.IAction[] = [];
  if (!done.pushed) {
    actions.push({
      label: 'Open Git panel',
      caption: 'Show the GitOps clone in the Git panel, where Push sends the commit',
      displayType: 'accent',
      callback: () => void openGitPanel(app, browser, info)
    });
  }
  actions.push({
    label: 'Open app',
    caption: done.url,
    displayType: 'link',
    callback: () => void window.open(done.url, '_blank', 'noopener')
  });
  Notification.success(what, { autoClose: false, actions });
}

/** Adds the toolbar button to every notebook panel. */
class ToolbarButtonExtension
  implements DocumentRegistry.IWidgetExtension<NotebookPanel, INotebookModel>
{
  constructor(private app: JupyterFrontEnd) {}

  createNew(panel: NotebookPanel): IDisposable {
    const button = new CommandToolbarButton({
      commands: this.app.commands,
      id: COMMAND,
      label: 'Publish as app'
    });
    button.addClass('jp-n2a-toolbar-button');
    panel.toolbar.insertItem(10, 'n2a-publish', button);
    return new DisposableDelegate(() => button.dispose());
  }
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'n2a-gitops:plugin',
  description: 'Publish the open notebook as an app through the GitOps repository.',
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
    app.commands.addCommand(COMMAND, {
      label: 'Publish as app',
      caption: 'Publish this notebook as a web app (commit to the GitOps repository)',
      isEnabled: () => tracker.currentWidget !== null,
      execute: async () => {
        const panel = tracker.currentWidget;
        if (panel) {
          await publishNotebook(app, browser, panel);
        }
      }
    });
    tracker.currentChanged.connect(() => app.commands.notifyCommandChanged(COMMAND));
    app.docRegistry.addWidgetExtension('Notebook', new ToolbarButtonExtension(app));
    palette?.addItem({ command: COMMAND, category: 'Notebook Operations' });
    mainMenu?.fileMenu.addGroup([{ command: COMMAND }], 40);
  }
};

export default plugin;
