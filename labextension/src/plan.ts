// The body of the "Publish as app" dialog: a form with what the user may choose (app name,
// framework, who may open the app, secrets by reference, resources, a check run), the server's
// refusal when the last plan or publish failed, and the dry run's plan. Every value from the
// server is set with textContent, never as HTML, so a hostile notebook or file name cannot
// inject markup.
import { Dialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { IAppRow, IPublishResult, IRepoInfo, IResources, N2AError } from './api';

/** One "NAME = reference" row of the Secrets table, as typed. */
export interface ISecretRow {
  name: string;
  ref: string;
}

/** What the user chose in the form, as typed (index.ts turns it into a request). */
export interface IPlanChoice {
  name: string;
  framework: string; // '' while nothing was detected: let the server detect
  access: string; // e.g. "authenticated", "users:jane@example.com,bob@example.com"
  secretEnv: ISecretRow[];
  cpu: string;
  memory: string;
  gpu: string;
  replicas: string;
  check: boolean;
}

/** What the dialog shows besides the form. */
export interface IPlanView {
  plan: IPublishResult | null; // the last successful plan (null: none yet)
  stale: boolean; // the plan is for earlier choices (the last request failed)
  error: N2AError | Error | null; // the last plan's or publish's failure
  choice: IPlanChoice;
  info: IRepoInfo;
  accepts: (key: string) => boolean; // the request keys the server accepts
  published: IAppRow[]; // the apps committed in the clone (GET /n2a/apps), to compare with
}

const ACCESS_LABELS: { [kind: string]: string } = {
  public: 'public: anyone who has the URL',
  authenticated: 'authenticated: anyone who signs in',
  private: 'private: only you',
  users: 'users: the people named here',
  groups: 'groups: members of the groups named here'
};
const ACCESS_KINDS = ['public', 'authenticated', 'private', 'users', 'groups'];

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

function input(className: string, label: string, value: string, placeholder = ''): HTMLInputElement {
  const node = el('input', undefined, `jp-mod-styled ${className}`);
  node.type = 'text';
  node.value = value;
  node.placeholder = placeholder;
  node.autocomplete = 'off';
  node.spellcheck = false;
  node.setAttribute('aria-label', label);
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

function amounts(values: { [resource: string]: string | number } | undefined): string {
  return Object.entries(values ?? {})
    .map(([resource, amount]) => `${resource} ${amount}`)
    .join(', ');
}

/** "2 replicas; requests cpu 100m, memory 4Gi; limits cpu 1, memory 4Gi", as `n2a publish` says it. */
export function describeResources(resources: IResources | undefined): string {
  if (!resources) {
    return '';
  }
  const parts: string[] = [];
  if (resources.replicas !== undefined) {
    parts.push(`${resources.replicas} replica${resources.replicas === 1 ? '' : 's'}`);
  }
  const requests = amounts(resources.requests);
  const limits = amounts(resources.limits);
  if (requests) {
    parts.push(`requests ${requests}`);
  }
  if (limits) {
    parts.push(`limits ${limits}`);
  }
  return parts.join('; ');
}

/** JSON with sorted keys: equal values, equal text. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map(canonical).join(',')}]`;
  }
  const entries = Object.entries(value as { [key: string]: unknown }).sort(([a], [b]) => (a < b ? -1 : 1));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

/** The access choice split into its kind and the names after "users:" / "groups:". */
export function splitAccess(access: string): { kind: string; names: string } {
  const colon = access.indexOf(':');
  return colon < 0
    ? { kind: access, names: '' }
    : { kind: access.slice(0, colon), names: access.slice(colon + 1) };
}

/** The first choice: what the first plan used, and the platform's defaults for the rest. */
export function initialChoice(plan: IPublishResult | null, info: IRepoInfo): IPlanChoice {
  return {
    name: plan?.name ?? '',
    framework: plan?.framework ?? '',
    access: plan?.access ?? info.accessDefault ?? '',
    secretEnv: [],
    cpu: '',
    memory: '',
    gpu: '',
    replicas: '',
    check: false
  };
}

export class PlanBody extends Widget implements Dialog.IBodyWidget<IPlanChoice> {
  private nameInput: HTMLInputElement;
  private frameworkSelect: HTMLSelectElement;
  private accessSelect: HTMLSelectElement | null = null;
  private accessNames: HTMLInputElement | null = null;
  private secretRows: HTMLTableSectionElement | null = null;
  private amounts: { [key: string]: HTMLInputElement } = {};
  private checkBox: HTMLInputElement | null = null;

  constructor(private view: IPlanView) {
    super();
    this.addClass('jp-n2a-plan');
    const root = this.node;
    const { plan, choice, info, error } = view;

    if (error) {
      // The server's words and its fix, as one message; the choices below are kept.
      const box = el('div', undefined, 'jp-n2a-error');
      box.setAttribute('role', 'alert');
      box.appendChild(el('p', error.message, 'jp-n2a-error-message'));
      const fix = error instanceof N2AError ? error.fix : null;
      if (fix) {
        box.appendChild(el('p', `Fix: ${fix}`, 'jp-n2a-error-fix'));
      }
      root.appendChild(box);
    }

    // What this publish would be, first: the form below changes it, the details follow.
    const summaryBox = el('div', undefined, view.stale ? 'jp-n2a-result jp-n2a-stale' : 'jp-n2a-result');
    if (plan) {
      if (view.stale) {
        summaryBox.appendChild(
          el('p', 'The plan shown is for your previous choices.', 'jp-n2a-hint jp-n2a-stale-note')
        );
      }
      summaryBox.appendChild(this.summary(plan));
      this.changes(summaryBox, plan);
      root.appendChild(summaryBox);
    }

    const form = el('div', undefined, 'jp-n2a-form');
    const basics = el('div', undefined, 'jp-n2a-row');
    const nameLabel = el('label', 'App name ');
    this.nameInput = input('jp-n2a-name', 'App name', choice.name);
    nameLabel.appendChild(this.nameInput);
    basics.appendChild(nameLabel);

    const frameworkLabel = el('label', 'Framework ');
    this.frameworkSelect = el('select', undefined, 'jp-mod-styled jp-n2a-framework');
    this.frameworkSelect.setAttribute('aria-label', 'Framework');
    const frameworks = info.frameworks;
    const choices = !choice.framework || frameworks.includes(choice.framework)
      ? frameworks
      : [choice.framework, ...frameworks];
    if (!choice.framework) {
      const detect = el('option', '(detect)');
      detect.value = '';
      detect.selected = true;
      this.frameworkSelect.appendChild(detect);
    }
    for (const framework of choices) {
      const option = el('option', framework);
      option.value = framework;
      option.selected = framework === choice.framework;
      this.frameworkSelect.appendChild(option);
    }
    frameworkLabel.appendChild(this.frameworkSelect);
    basics.appendChild(frameworkLabel);
    form.appendChild(basics);

    if (view.accepts('access')) {
      this.accessFields(form, choice.access);
    }
    if (view.accepts('secret_env')) {
      this.secretFields(form, choice.secretEnv);
    }
    if (['cpu', 'memory', 'gpu', 'replicas'].some(key => view.accepts(key))) {
      this.resourceFields(form, choice);
    }
    if (view.accepts('check')) {
      const label = el('label', undefined, 'jp-n2a-check-label');
      this.checkBox = el('input', undefined, 'jp-n2a-check');
      this.checkBox.type = 'checkbox';
      this.checkBox.checked = choice.check;
      label.appendChild(this.checkBox);
      label.appendChild(
        document.createTextNode(' Check that it runs: start the app here before committing')
      );
      form.appendChild(label);
    }
    form.appendChild(
      el('p', 'Change a field and press "Update plan" to see its effect.', 'jp-n2a-hint')
    );
    root.appendChild(form);

    if (plan) {
      this.details(root, plan, view.stale);
    }
  }

  /** Who may open the app: the kinds n2a.yaml allows, and the names for users: and groups:. */
  private accessFields(form: HTMLElement, access: string): void {
    const { info } = this.view;
    const box = el('fieldset', undefined, 'jp-n2a-fieldset jp-n2a-access-fields');
    box.appendChild(el('legend', 'Who may open the app'));
    const { kind, names } = splitAccess(access);
    const allowed = info.accessAllowed?.length ? info.accessAllowed : ACCESS_KINDS;
    const kinds = kind && !allowed.includes(kind) ? [kind, ...allowed] : allowed;
    this.accessSelect = el('select', undefined, 'jp-mod-styled jp-n2a-access-kind');
    this.accessSelect.setAttribute('aria-label', 'Access');
    for (const k of kinds) {
      const isDefault = info.accessDefault !== undefined && splitAccess(info.accessDefault).kind === k;
      const option = el('option', (ACCESS_LABELS[k] ?? k) + (isDefault ? ' (default)' : ''));
      option.value = k;
      option.selected = k === kind;
      this.accessSelect.appendChild(option);
    }
    const line = el('div', undefined, 'jp-n2a-inline');
    line.appendChild(this.accessSelect);
    const email = (info.accessIdentity ?? 'email') === 'email';
    this.accessNames = input('jp-n2a-access-names', 'Users or groups', names);
    line.appendChild(this.accessNames);
    box.appendChild(line);
    const hint = el('p', undefined, 'jp-n2a-hint jp-n2a-access-hint');
    box.appendChild(hint);
    const update = () => {
      const k = this.accessSelect!.value;
      const needsNames = k === 'users' || k === 'groups';
      this.accessNames!.hidden = !needsNames;
      this.accessNames!.placeholder =
        k === 'users'
          ? email
            ? 'jane@example.com, bob@example.com'
            : 'jane, bob'
          : 'finance, data-team';
      hint.textContent =
        k === 'users'
          ? email
            ? 'E-mail addresses, separated by commas' +
              (info.accessEmailDomain ? ` (a bare name gets @${info.accessEmailDomain}).` : '.')
            : 'User names, separated by commas.'
          : k === 'groups'
            ? 'Groups of the sign-in provider, separated by commas.'
            : '';
      hint.hidden = !hint.textContent;
    };
    this.accessSelect.addEventListener('change', update);
    update();
    form.appendChild(box);
  }

  /** Environment variables read from Secrets: a name and a reference per row, never a value. */
  private secretFields(form: HTMLElement, rows: ISecretRow[]): void {
    const { info, plan } = this.view;
    const app = plan?.app ?? '<app>';
    const box = el('fieldset', undefined, 'jp-n2a-fieldset jp-n2a-secret-fields');
    box.appendChild(el('legend', 'Secrets (environment variables read from the cluster)'));
    const table = el('table', undefined, 'jp-n2a-secret-table');
    this.secretRows = el('tbody');
    table.appendChild(this.secretRows);
    box.appendChild(table);
    const example = info.secretStore ? `${app}/openai` : `${app}-keys/openai`;
    const addRow = (row: ISecretRow) => {
      const tr = el('tr', undefined, 'jp-n2a-secret-row');
      const name = input('jp-n2a-secret-name', 'Variable name', row.name, 'OPENAI_API_KEY');
      const ref = input(
        'jp-n2a-secret-ref',
        info.secretStore ? 'Key in the secret store' : 'Secret and key',
        row.ref,
        example
      );
      const remove = el('button', 'Remove', 'jp-mod-styled jp-n2a-secret-remove');
      remove.type = 'button';
      remove.addEventListener('click', () => tr.remove());
      for (const node of [name, el('span', '=', 'jp-n2a-equals'), ref, remove]) {
        const td = el('td');
        td.appendChild(node);
        tr.appendChild(td);
      }
      this.secretRows!.appendChild(tr);
      return name;
    };
    for (const row of rows) {
      addRow(row);
    }
    const add = el('button', 'Add secret', 'jp-mod-styled jp-n2a-secret-add');
    add.type = 'button';
    add.addEventListener('click', () => addRow({ name: '', ref: '' }).focus());
    box.appendChild(add);
    const allowed = (info.secretsAllowed ?? [])
      .map(pattern =>
        plan ? pattern.split('{app}').join(plan.app).split('{owner}').join(plan.owner) : pattern
      )
      .join(', ');
    const form_ = info.secretStore
      ? `Reference: KEY (or KEY#PROPERTY) in the secret store ${info.secretStore}`
      : 'Reference: SECRET/KEY, key KEY of the Kubernetes Secret SECRET in the apps namespace';
    box.appendChild(
      el(
        'p',
        `The app reads os.environ["NAME"]; the value stays in the cluster, never in git. ${form_}` +
          (allowed ? `; this platform allows ${allowed}.` : '.'),
        'jp-n2a-hint jp-n2a-secret-hint'
      )
    );
    form.appendChild(box);
  }

  /** CPU, memory, GPUs and replicas, with the platform's maxima; empty means the default. */
  private resourceFields(form: HTMLElement, choice: IPlanChoice): void {
    const { info } = this.view;
    const max = info.maxResources ?? {};
    const defaults = info.resources ?? {};
    const box = el('fieldset', undefined, 'jp-n2a-fieldset jp-n2a-resource-fields');
    box.appendChild(el('legend', 'Resources'));
    const fields: [keyof IPlanChoice & string, string, string, string | number | undefined][] = [
      ['cpu', 'CPU', 'e.g. 500m', max.cpu],
      ['memory', 'Memory', 'e.g. 4Gi', max.memory],
      ['gpu', 'GPUs', '0', max.gpu],
      ['replicas', 'Replicas', '1', max.replicas]
    ];
    for (const [key, label, placeholder, maximum] of fields) {
      if (!this.view.accepts(key)) {
        continue;
      }
      const wrap = el('label', `${label} `, 'jp-n2a-amount');
      const field = input(`jp-n2a-${key}`, label, String(choice[key] ?? ''), placeholder);
      field.size = 8;
      wrap.appendChild(field);
      if (maximum !== undefined) {
        const none = key === 'gpu' && Number(maximum) === 0;
        wrap.appendChild(
          el('span', none ? 'none on this platform' : `max ${maximum}`, `jp-n2a-max jp-n2a-max-${key}`)
        );
        if (none && !field.value) {
          field.disabled = true;
        }
      }
      this.amounts[key] = field;
      box.appendChild(wrap);
    }
    const usual = describeResources({ requests: defaults.requests, limits: defaults.limits });
    box.appendChild(
      el(
        'p',
        'CPU and memory set the request and the limit alike. Empty: the platform default' +
          (usual ? ` (${usual}; 1 replica).` : '.'),
        'jp-n2a-hint'
      )
    );
    form.appendChild(box);
  }

  /** App, owner, URL, folder, and what the choices came to: access, resources, secret names. */
  private summary(plan: IPublishResult): HTMLElement {
    const summary = el('dl', undefined, 'jp-n2a-summary');
    const row = (term: string, value: string, className: string) => {
      summary.appendChild(el('dt', term));
      summary.appendChild(el('dd', value, className));
    };
    row('App', plan.app, 'jp-n2a-app');
    row('Owner', plan.owner, 'jp-n2a-owner');
    row('URL', plan.url, 'jp-n2a-url');
    row('Folder', `${this.view.info.repo || '(GitOps clone)'}/${plan.path}`, 'jp-n2a-path');
    if (plan.access) {
      row(
        'Access',
        plan.access_detail ? `${plan.access}: ${plan.access_detail}` : plan.access,
        'jp-n2a-access'
      );
    }
    if (plan.resources && Object.keys(plan.resources).length) {
      row('Resources', describeResources(plan.resources), 'jp-n2a-resources');
    }
    if (plan.secret_env?.length) {
      row('Secrets', plan.secret_env.map(s => s.env).join(', '), 'jp-n2a-secrets');
    }
    if (plan.environment?.description) {
      row('Imports resolved in', plan.environment.description, 'jp-n2a-environment');
    }
    return summary;
  }

  /** Re-publishing an app: say so when this publish changes who may open it or its resources
   *  (like the CLI, options left empty get the platform's defaults, not the app's last values). */
  private changes(parent: HTMLElement, plan: IPublishResult): void {
    const now = this.view.published.find(row => row.app === plan.app);
    if (!now) {
      return;
    }
    const changed: string[] = [];
    if (now.access && plan.access && now.access !== plan.access) {
      changed.push(`access ${now.access}`);
    }
    if (now.resources && plan.resources && canonical(now.resources) !== canonical(plan.resources)) {
      changed.push(describeResources(now.resources));
    }
    if (changed.length) {
      parent.appendChild(
        el(
          'p',
          `${plan.app} is published now with ${changed.join('; ')}. This publish changes that ` +
            '(empty fields get the platform defaults, not the app\'s last values).',
          'jp-n2a-changes'
        )
      );
    }
  }

  /** Why this framework, the secrets' references, requirements, files, warnings and notes. */
  private details(root: HTMLElement, plan: IPublishResult, stale: boolean): void {
    const wrap = el('div', undefined, stale ? 'jp-n2a-result jp-n2a-stale' : 'jp-n2a-result');

    const why = section(wrap, `Framework: ${plan.framework}`, 'jp-n2a-evidence');
    const whyList = el('ul');
    for (const reason of plan.evidence) {
      whyList.appendChild(el('li', reason));
    }
    why.appendChild(whyList);

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

    if (plan.brought_in?.length) {
      const brought = section(wrap, 'Brought in by %run', 'jp-n2a-brought-in');
      const list = el('ul');
      for (const file of plan.brought_in) {
        list.appendChild(el('li', file.by ? `${file.path} (by %run in ${file.by})` : file.path));
      }
      brought.appendChild(list);
    }

    const files = section(wrap, 'Files', 'jp-n2a-files');
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
      const warn = section(wrap, 'Warnings', 'jp-n2a-warnings');
      const list = el('ul');
      for (const warning of plan.warnings) {
        list.appendChild(el('li', warning));
      }
      warn.appendChild(list);
    }
    if (plan.notes.length) {
      const notes = section(wrap, 'Notes', 'jp-n2a-notes');
      const list = el('ul');
      for (const note of plan.notes) {
        list.appendChild(el('li', note));
      }
      notes.appendChild(list);
    }
    root.appendChild(wrap);
  }

  getValue(): IPlanChoice {
    const previous = this.view.choice;
    let access = previous.access;
    if (this.accessSelect) {
      const kind = this.accessSelect.value;
      if (kind === 'users' || kind === 'groups') {
        // "jane@example.com, bob@example.com" -> "users:jane@example.com,bob@example.com";
        // anything else odd in a name is for the server to refuse, naming the rule.
        const names = (this.accessNames?.value ?? '')
          .split(',')
          .map(name => name.trim())
          .filter(name => name);
        access = `${kind}:${names.join(',')}`;
      } else {
        access = kind;
      }
    }
    const secretEnv: ISecretRow[] = [];
    if (this.secretRows) {
      for (const tr of Array.from(this.secretRows.querySelectorAll('tr'))) {
        const name = (tr.querySelector('.jp-n2a-secret-name') as HTMLInputElement).value.trim();
        const ref = (tr.querySelector('.jp-n2a-secret-ref') as HTMLInputElement).value.trim();
        if (name || ref) {
          secretEnv.push({ name, ref });
        }
      }
    }
    const amount = (key: string) =>
      this.amounts[key] ? this.amounts[key].value.trim() : String((previous as any)[key] ?? '');
    return {
      name: this.nameInput.value.trim(),
      framework: this.frameworkSelect.value,
      access,
      secretEnv: this.secretRows ? secretEnv : previous.secretEnv,
      cpu: amount('cpu'),
      memory: amount('memory'),
      gpu: amount('gpu'),
      replicas: amount('replicas'),
      check: this.checkBox ? this.checkBox.checked : previous.check
    };
  }
}
