// Two parts of the publish dialog's form: the files the app reads (a checklist whose extra files
// travel as `include`) and, where n2a.yaml turns scale to zero on, what happens when nobody visits.
import { IDataFile } from './api';
import { IPlanChoice } from './choice';
import { el, input } from './dom';

export interface IFileChecklist {
  node: HTMLElement;
  include: () => string[]; // the checked extra files, relative to the notebook's folder
}

const ORDER = ['shipped', 'included', 'missing', 'outside', 'too-large', 'folder', 'available'];
const PROBLEM: { [status: string]: string } = {
  missing: 'not found: the app fails where it reads it',
  outside: "outside the notebook's folder: never shipped",
  'too-large': 'too large to ship with the app',
  folder: 'a folder: check the files of it to ship'
};

function kib(bytes: number | null): string {
  return bytes === null || bytes === undefined ? '' : `${Math.max(1, Math.round(bytes / 1024))} KiB`;
}

/** Shipped files checked (the code reads them: they always ship) with the cell that reads them;
 *  the folder's other files unchecked, to add; missing ones as warnings naming the cell. */
export function fileChecklist(files: IDataFile[], include: string[], canAdd: boolean): IFileChecklist {
  const box = el('fieldset', undefined, 'jp-n2a-fieldset jp-n2a-data-files');
  box.appendChild(el('legend', 'Files the app reads'));
  const list = el('ul', undefined, 'jp-n2a-file-list');
  const extras: HTMLInputElement[] = [];
  // A file added by include that the code never names is no longer among the plan's files: the
  // user's choice still shows, checked.
  const named = new Set(files.map(f => f.path));
  const added: IDataFile[] = include
    .filter(path => !named.has(path))
    .map(path => ({ path, cell: '', status: 'included', bytes: null, how: '' }));
  const sorted = [...files, ...added].sort((a, b) => ORDER.indexOf(a.status) - ORDER.indexOf(b.status));
  for (const file of sorted) {
    const item = el('li', undefined, `jp-n2a-file jp-n2a-file-${file.status}`);
    const where = file.cell ? `read in ${file.cell}` : '';
    if (PROBLEM[file.status]) {
      item.setAttribute('role', 'alert');
      item.appendChild(el('span', `⚠ ${file.path}`, 'jp-n2a-file-path'));
      item.appendChild(el('span', ` ${PROBLEM[file.status]}${where ? ` (${where})` : ''}`, 'jp-n2a-file-why'));
      list.appendChild(item);
      continue;
    }
    const label = el('label', undefined, 'jp-n2a-file-label');
    const check = el('input', undefined, 'jp-n2a-file-check');
    check.type = 'checkbox';
    check.value = file.path;
    check.setAttribute('aria-label', file.path);
    if (file.status === 'shipped') {
      check.checked = true;
      check.disabled = true;
      check.title = 'The code reads this file, so it ships with the app';
    } else {
      check.checked = file.status === 'included' || include.includes(file.path);
      check.disabled = !canAdd;
      extras.push(check);
    }
    label.appendChild(check);
    label.appendChild(el('span', ` ${file.path}`, 'jp-n2a-file-path'));
    const words = [where, kib(file.bytes)].filter(w => w).join(', ');
    if (words) {
      label.appendChild(el('span', ` ${words}`, 'jp-n2a-file-where'));
    }
    item.appendChild(label);
    list.appendChild(item);
  }
  box.appendChild(list);
  if (!canAdd && files.some(f => f.status === 'available')) {
    box.appendChild(el('p', "The hub's publish service ships only the files the code reads.", 'jp-n2a-hint'));
  }
  return { node: box, include: () => extras.filter(c => c.checked && !c.disabled).map(c => c.value) };
}

export interface IIdleChoice {
  node: HTMLElement;
  idle: () => string;
  alwaysOn: () => boolean;
}

/** "Stop when idle after [idleAfter]" or "Always on" (n2a.yaml's scaleToZero). */
export function idleChoice(choice: IPlanChoice, idleAfter: string, canIdle: boolean, canAlwaysOn: boolean): IIdleChoice {
  const box = el('fieldset', undefined, 'jp-n2a-fieldset jp-n2a-idle-fields');
  box.appendChild(el('legend', 'When nobody visits'));
  const radio = (value: string, checked: boolean) => {
    const node = el('input', undefined, `jp-n2a-idle-${value}`);
    node.type = 'radio';
    node.name = 'jp-n2a-idle';
    node.value = value;
    node.checked = checked;
    return node;
  };
  const line = el('div', undefined, 'jp-n2a-inline');
  const stop = el('label', undefined, 'jp-n2a-idle-label');
  const stopRadio = radio('stop', !choice.alwaysOn || !canAlwaysOn);
  stop.appendChild(stopRadio);
  stop.appendChild(document.createTextNode(' Stop when idle after'));
  const after = input('jp-n2a-idle', 'Stop when idle after', choice.idle || idleAfter, idleAfter || '15m');
  after.size = 6;
  after.disabled = !canIdle;
  stop.appendChild(after);
  line.appendChild(stop);
  let onRadio: HTMLInputElement | null = null;
  if (canAlwaysOn) {
    const on = el('label', undefined, 'jp-n2a-idle-label');
    onRadio = radio('always-on', choice.alwaysOn);
    on.appendChild(onRadio);
    on.appendChild(document.createTextNode(' Always on'));
    line.appendChild(on);
  }
  box.appendChild(line);
  box.appendChild(el('p', 'A stopped app starts again at the next visit, after a short wait.', 'jp-n2a-hint'));
  after.addEventListener('focus', () => (stopRadio.checked = true));
  return {
    node: box,
    idle: () => after.value.trim(),
    alwaysOn: () => onRadio?.checked ?? false
  };
}
