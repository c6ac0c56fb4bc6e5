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
import { IPlanChoice, PlanBody } from './plan';

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

async function publishNotebook(
  app: JupyterFrontEnd,
  browser: IDefaultFileBrowser | null,
  panel: NotebookPanel
): Promise<void> {
  // n2a reads the file on disk: unsaved edits would silently be left out.
  await panel.context.save();
  const notebook = panel.context.path;
  let info: api.IRepoInfo;
  let choice: Partial<IPlanChoice> = {};
  try {
    info = await api.repoInfo(notebook);
  } catch (error) {
    await showErrorMessage('Publish as app', explain(error));
    return;
  }
  // The framework n2a detects on its own; sent only when the user picks another, so the plan
  // keeps explaining the detection instead of saying "chosen with --framework".
  let detected: string | null = null;
  const options = (): api.IPublishOptions => ({
    notebook,
    ...(info.repo !== null ? { repo: info.repo } : {}),
    ...(choice.name ? { name: choice.name } : {}),
    ...(choice.framework && choice.framework !== detected
      ? { framework: choice.framework }
      : {})
  });

  // Plan, let the user adjust name and framework, plan again, until they publish or cancel.
  for (;;) {
    let plan: api.IPublishResult;
    try {
      plan = await api.plan(options());
      if (detected === null) {
        detected = plan.framework;
      }
    } catch (error) {
      await showErrorMessage('Publish as app: plan', explain(error));
      return;
    }
    const result = await showDialog<IPlanChoice>({
      title: `Publish "${notebook}" as an app`,
      body: new PlanBody(plan, info.frameworks, info.repo ?? ''),
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
    if (result.button.label === 'Publish') {
      // The user saw the plan for these exact values only if they did not edit after it.
      if (choice.name !== plan.name || choice.framework !== plan.framework) {
        continue;
      }
      break;
    }
  }

  const pending = Notification.emit(`Publishing ${notebook}…`, 'in-progress', {
    autoClose: false
  });
  let published: api.IPublishResult;
  try {
    published = await api.publish(options());
  } catch (error) {
    Notification.dismiss(pending);
    await showErrorMessage('Publish as app', explain(error));
    return;
  }
  Notification.dismiss(pending);
  const commit = published.commit ? published.commit.slice(0, 8) : null;
  // Notifications cut messages at 140 characters: the URL (it names the app) comes first.
  const what = !published.changed
    ? `${published.url} is unchanged: nothing to commit.`
    : published.pushed
      ? `${published.url} published: commit ${commit} pushed.`
      : `${published.url} committed as ${commit}. Push it from the Git panel to deploy.`;
  const actions: Notification.IAction[] = [];
  if (!published.pushed) {
    actions.push({
      label: 'Open Git panel',
      caption: 'Show the GitOps clone in the Git panel, where Push sends the commit',
      displayType: 'accent',
      callback: () => void openGitPanel(app, browser, info)
    });
  }
  actions.push({
    label: 'Open app',
    caption: published.url,
    displayType: 'link',
    callback: () => void window.open(published.url, '_blank', 'noopener')
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
