// The plan's details, collapsed under one "Details" disclosure: why this framework, the secrets'
// references, the requirements and where each came from, the files, %run's files, where imports
// were resolved (the interpreter) and the folder in the GitOps clone. An analyst rarely needs
// them; someone debugging a publish does.
import { IPublishResult } from './api';
import { el } from './dom';

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

function list(parent: HTMLElement, items: string[]): void {
  const ul = el('ul');
  for (const item of items) {
    ul.appendChild(el('li', item));
  }
  parent.appendChild(ul);
}

export function details(plan: IPublishResult, folder: string): HTMLDetailsElement {
  const wrap = el('details', undefined, 'jp-n2a-details');
  wrap.appendChild(el('summary', 'Details: files, requirements, framework, folder'));

  list(section(wrap, `Framework: ${plan.framework}`, 'jp-n2a-evidence'), plan.evidence);

  if (plan.secret_env?.length) {
    const secrets = section(wrap, 'Secrets (references, never values)', 'jp-n2a-secret-refs');
    const table = el('table');
    for (const ref of plan.secret_env) {
      const tr = el('tr');
      tr.appendChild(el('td', ref.env, 'jp-n2a-spec'));
      const where = ref.remote
        ? `store key ${ref.remote}${ref.property ? '#' + ref.property : ''}, through Secret ${ref.secret}`
        : `Secret ${ref.secret}, key ${ref.key}`;
      tr.appendChild(el('td', where, 'jp-n2a-source'));
      table.appendChild(tr);
    }
    secrets.appendChild(table);
  }

  const reqs = section(wrap, 'Requirements', 'jp-n2a-requirements');
  const reqTable = el('table');
  const sources = plan.requirement_sources.length
    ? plan.requirement_sources
    : plan.requirements.map(spec => ({ spec, source: '', origin: '' }));
  for (const req of sources) {
    // origin (kernel, index, run-time, ...) lets the style mark what the kernel did not have.
    const origin = (req.origin ?? '').replace(/[^a-z-]/g, '');
    const tr = el('tr', undefined, origin ? `jp-n2a-origin-${origin}` : undefined);
    tr.appendChild(el('td', req.spec, 'jp-n2a-spec'));
    tr.appendChild(el('td', req.source, 'jp-n2a-source'));
    reqTable.appendChild(tr);
  }
  reqs.appendChild(reqTable);
  if (plan.environment?.description) {
    reqs.appendChild(el('p', `Imports resolved in ${plan.environment.description}`, 'jp-n2a-hint jp-n2a-environment'));
  }

  if (plan.brought_in?.length) {
    list(
      section(wrap, 'Brought in by %run', 'jp-n2a-brought-in'),
      plan.brought_in.map(file => (file.by ? `${file.path} (by %run in ${file.by})` : file.path))
    );
  }

  const files = section(wrap, `Files, in ${folder}`, 'jp-n2a-files');
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

  if (plan.notes.length) {
    list(section(wrap, 'Notes', 'jp-n2a-notes'), plan.notes);
  }
  return wrap;
}
