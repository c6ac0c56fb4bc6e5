// The body of the "Publish as app" dialog: the dry run's plan, plus the two fields a user may
// change (app name and framework). Every value from the server is set with textContent, never
// as HTML, so a hostile notebook or file name cannot inject markup.
import { Dialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { IPublishResult } from './api';

export interface IPlanChoice {
  name: string;
  framework: string;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text?: string,
  className?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== undefined) {
    node.textContent = text;
  }
  if (className) {
    node.className = className;
  }
  return node;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) {
    return `${bytes} B`;
  }
  if (bytes < 1024 * 1024) {
    return `${(bytes / 1024).toFixed(1)} KiB`;
  }
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}

function section(parent: HTMLElement, title: string, className: string): HTMLElement {
  const box = el('div', undefined, `jp-n2a-section ${className}`);
  box.appendChild(el('h3', title));
  parent.appendChild(box);
  return box;
}

export class PlanBody extends Widget implements Dialog.IBodyWidget<IPlanChoice> {
  private nameInput: HTMLInputElement;
  private frameworkSelect: HTMLSelectElement;

  constructor(plan: IPublishResult, frameworks: string[], repo: string) {
    super();
    this.addClass('jp-n2a-plan');
    const root = this.node;

    const form = el('div', undefined, 'jp-n2a-form');
    const nameLabel = el('label', 'App name ');
    this.nameInput = el('input', undefined, 'jp-mod-styled jp-n2a-name');
    this.nameInput.value = plan.name;
    this.nameInput.setAttribute('aria-label', 'App name');
    nameLabel.appendChild(this.nameInput);
    form.appendChild(nameLabel);

    const frameworkLabel = el('label', 'Framework ');
    this.frameworkSelect = el('select', undefined, 'jp-mod-styled jp-n2a-framework');
    this.frameworkSelect.setAttribute('aria-label', 'Framework');
    const choices = frameworks.includes(plan.framework)
      ? frameworks
      : [plan.framework, ...frameworks];
    for (const framework of choices) {
      const option = el('option', framework);
      option.value = framework;
      option.selected = framework === plan.framework;
      this.frameworkSelect.appendChild(option);
    }
    frameworkLabel.appendChild(this.frameworkSelect);
    form.appendChild(frameworkLabel);
    form.appendChild(
      el('p', 'Change a field and press "Update plan" to see its effect.', 'jp-n2a-hint')
    );
    root.appendChild(form);

    const summary = el('dl', undefined, 'jp-n2a-summary');
    const row = (term: string, value: string, className: string) => {
      summary.appendChild(el('dt', term));
      summary.appendChild(el('dd', value, className));
    };
    row('App', plan.app, 'jp-n2a-app');
    row('Owner', plan.owner, 'jp-n2a-owner');
    row('URL', plan.url, 'jp-n2a-url');
    row('Folder', `${repo || '(GitOps clone)'}/${plan.path}`, 'jp-n2a-path');
    root.appendChild(summary);

    const why = section(root, `Framework: ${plan.framework}`, 'jp-n2a-evidence');
    const whyList = el('ul');
    for (const reason of plan.evidence) {
      whyList.appendChild(el('li', reason));
    }
    why.appendChild(whyList);

    const reqs = section(root, 'Requirements', 'jp-n2a-requirements');
    const reqTable = el('table');
    const sources = plan.requirement_sources.length
      ? plan.requirement_sources
      : plan.requirements.map(spec => ({ spec, source: '' }));
    for (const req of sources) {
      const tr = el('tr');
      tr.appendChild(el('td', req.spec, 'jp-n2a-spec'));
      tr.appendChild(el('td', req.source, 'jp-n2a-source'));
      reqTable.appendChild(tr);
    }
    reqs.appendChild(reqTable);

    const files = section(root, 'Files', 'jp-n2a-files');
    const fileTable = el('table');
    let total = 0;
    for (const file of plan.files) {
      total += file.bytes;
      const tr = el('tr');
      tr.appendChild(el('td', file.path));
      tr.appendChild(el('td', formatBytes(file.bytes), 'jp-n2a-bytes'));
      fileTable.appendChild(tr);
    }
    const totalRow = el('tr', undefined, 'jp-n2a-total');
    totalRow.appendChild(el('td', 'total'));
    totalRow.appendChild(el('td', formatBytes(total), 'jp-n2a-bytes'));
    fileTable.appendChild(totalRow);
    files.appendChild(fileTable);

    if (plan.warnings.length) {
      const warn = section(root, 'Warnings', 'jp-n2a-warnings');
      const list = el('ul');
      for (const warning of plan.warnings) {
        list.appendChild(el('li', warning));
      }
      warn.appendChild(list);
    }
    if (plan.notes.length) {
      const notes = section(root, 'Notes', 'jp-n2a-notes');
      const list = el('ul');
      for (const note of plan.notes) {
        list.appendChild(el('li', note));
      }
      notes.appendChild(list);
    }
  }

  getValue(): IPlanChoice {
    return {
      name: this.nameInput.value.trim(),
      framework: this.frameworkSelect.value
    };
  }
}
