// The body of the "Publish as app" dialog, laid out for an analyst: at the top what the app will
// be (its URL, who may open it in words, its size by name) and how many problems need attention;
// then the choices (app name, framework, who may open it, size, secrets, a check run); the
// technical details collapsed; and, last, right above the buttons, the warnings and the server's
// refusal in the dialog's own terms. Every value from the server is set with textContent.
import { Dialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { IAccessChoice, IAppRow, IAppsAnswer, IPublishResult, IRepoInfo, N2AError } from './api';
import { changes } from './changes';
import { ACCESS_WORDS, accessWords, IPlanChoice, ISecretRow, presetOf, RESOURCE_KEYS, splitAccess } from './choice';
import { details } from './details';
import { fileChecklist, idleChoice, IFileChecklist, IIdleChoice } from './fields';
import { cpuWords, el, inFieldTerms, input, memoryWords, sizeWords } from './dom';

/** What the dialog shows besides the form. */
export interface IPlanView {
  plan: IPublishResult | null; // the last successful plan (null: none yet)
  stale: boolean; // the plan is for earlier choices (the last request failed)
  error: N2AError | Error | null; // the last plan's or publish's failure
  choice: IPlanChoice;
  info: IRepoInfo;
  platform: IAppsAnswer['dialog'] | null; // what the server says the platform can do (GET /n2a/apps)
  accepts: (key: string) => boolean; // the request keys the server accepts
  published: IAppRow[]; // the user's apps committed in the clone, to compare with
  anyway: boolean; // the user pressed Publish once with these warnings: the next press publishes
}

export class PlanBody extends Widget implements Dialog.IBodyWidget<IPlanChoice> {
  private nameInput: HTMLInputElement;
  private frameworkSelect: HTMLSelectElement;
  private accessSelect: HTMLSelectElement | null = null;
  private accessNames: HTMLInputElement | null = null;
  private secretRows: HTMLTableSectionElement | null = null;
  private sizeSelect: HTMLSelectElement | null = null;
  private amounts: { [key: string]: HTMLInputElement } = {};
  private checkBox: HTMLInputElement | null = null;
  private files: IFileChecklist | null = null;
  private idle: IIdleChoice | null = null;

  constructor(private view: IPlanView) {
    super();
    this.addClass('jp-n2a-plan');
    const { plan, choice, info } = view;
    const scroll = el('div', undefined, 'jp-n2a-scroll');
    this.node.appendChild(scroll);

    if (plan) {
      scroll.appendChild(this.glance(plan));
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
    const choices = !choice.framework || frameworks.includes(choice.framework) ? frameworks : [choice.framework, ...frameworks];
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
    if (RESOURCE_KEYS.some(key => view.accepts(key))) {
      this.sizeFields(form, choice);
    }
    if (view.accepts('secret_env')) {
      this.secretFields(form, choice.secretEnv);
    }
    if (plan?.data_files?.length) {
      this.files = fileChecklist(plan.data_files, choice.include, view.accepts('include'));
      form.appendChild(this.files.node);
    }
    if (info.scaleToZero && (view.accepts('idle') || view.accepts('always_on'))) {
      this.idle = idleChoice(choice, info.idleAfter ?? '', view.accepts('idle'), view.accepts('always_on'));
      form.appendChild(this.idle.node);
    }
    if (view.accepts('check')) {
      const label = el('label', undefined, 'jp-n2a-check-label');
      this.checkBox = el('input', undefined, 'jp-n2a-check');
      this.checkBox.type = 'checkbox';
      this.checkBox.checked = choice.check;
      label.appendChild(this.checkBox);
      label.appendChild(document.createTextNode(' Check that it runs: start the app here before publishing'));
      form.appendChild(label);
    }
    form.appendChild(el('p', 'Change a field and press "Update plan" to see its effect.', 'jp-n2a-hint'));
    scroll.appendChild(form);
    if (plan) {
      scroll.appendChild(details(plan, `${info.repo || '(GitOps clone)'}/${plan.path}`));
    }
    this.node.appendChild(this.attention());
  }

  /** The problems: the refusal, a stale plan, the warnings; right above the buttons. */
  private attention(): HTMLElement {
    const { plan, error, stale, anyway } = this.view;
    const box = el('div', undefined, 'jp-n2a-attention');
    if (error) {
      const refusal = el('div', undefined, 'jp-n2a-error');
      refusal.setAttribute('role', 'alert');
      refusal.appendChild(el('p', inFieldTerms(error.message), 'jp-n2a-error-message'));
      const fix = error instanceof N2AError ? error.fix : null;
      if (fix) {
        refusal.appendChild(el('p', `Fix: ${inFieldTerms(fix)}`, 'jp-n2a-error-fix'));
      }
      box.appendChild(refusal);
    }
    if (plan && stale) {
      box.appendChild(el('p', 'The plan shown is for your previous choices.', 'jp-n2a-hint jp-n2a-stale-note'));
    }
    if (plan?.warnings.length) {
      const warn = el('div', undefined, 'jp-n2a-warnings');
      warn.appendChild(el('h3', plan.warnings.length === 1 ? 'Warning' : `${plan.warnings.length} warnings`));
      const list = el('ul');
      for (const warning of plan.warnings) {
        list.appendChild(el('li', inFieldTerms(warning)));
      }
      warn.appendChild(list);
      if (anyway) {
        warn.appendChild(
          el('p', 'Press "Publish anyway" to publish with these warnings left, or fix them and update the plan.', 'jp-n2a-anyway-note')
        );
      }
      box.appendChild(warn);
    }
    box.hidden = !box.childElementCount;
    return box;
  }

  /** What the app will be, in words, before any detail. */
  private glance(plan: IPublishResult): HTMLElement {
    const box = el('div', undefined, this.view.stale ? 'jp-n2a-glance jp-n2a-stale' : 'jp-n2a-glance');
    const summary = el('dl', undefined, 'jp-n2a-summary');
    const row = (term: string, value: string, className: string) => {
      summary.appendChild(el('dt', term));
      summary.appendChild(el('dd', value, className));
    };
    row('App', plan.app, 'jp-n2a-app');
    row('URL', plan.url, 'jp-n2a-url');
    row('Who may open it', accessWords(plan), 'jp-n2a-access');
    if (plan.resources && Object.keys(plan.resources).length) {
      const preset = presetOf(plan.resources, this.view.platform?.presets ?? []);
      const words = sizeWords(plan.resources);
      row('Size', preset ? `${preset}: ${words}` : words, 'jp-n2a-resources');
    }
    if (plan.secret_env?.length) {
      row('Secrets', plan.secret_env.map(s => s.env).join(', '), 'jp-n2a-secrets');
    }
    const problems = plan.warnings.length + (this.view.error ? 1 : 0);
    row(
      'Attention',
      problems ? `${problems} problem${problems > 1 ? 's' : ''} below, next to the buttons` : 'nothing needs attention',
      problems ? 'jp-n2a-problems jp-n2a-has-problems' : 'jp-n2a-problems'
    );
    box.appendChild(summary);
    changes(box, plan, this.view.published);
    return box;
  }

  /** Who may open the app: only the kinds the platform can honour for this user. */
  private accessFields(form: HTMLElement, access: string): void {
    const { info, platform } = this.view;
    const box = el('fieldset', undefined, 'jp-n2a-fieldset jp-n2a-access-fields');
    box.appendChild(el('legend', 'Who may open the app'));
    const { kind, names } = splitAccess(access);
    const offered: IAccessChoice[] = platform?.access?.length
      ? platform.access
      : (info.accessAllowed ?? Object.keys(ACCESS_WORDS)).map(k => ({ kind: k, words: ACCESS_WORDS[k] ?? k, available: true, why: '' }));
    this.accessSelect = el('select', undefined, 'jp-mod-styled jp-n2a-access-kind');
    this.accessSelect.setAttribute('aria-label', 'Who may open the app');
    for (const c of offered.filter(c => c.available || c.kind === kind)) {
      const isDefault = info.accessDefault !== undefined && splitAccess(info.accessDefault).kind === c.kind;
      const option = el('option', `${c.kind}: ${ACCESS_WORDS[c.kind] ?? c.words}${isDefault ? ' (default)' : ''}`);
      option.value = c.kind;
      option.selected = c.kind === kind;
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
    const missing = offered.filter(c => !c.available);
    if (missing.length) {
      box.appendChild(
        el('p', `Not offered here: ${missing.map(c => `${c.kind} (${c.why})`).join('; ')}.`, 'jp-n2a-hint jp-n2a-access-missing')
      );
    }
    const update = () => {
      const k = this.accessSelect!.value;
      this.accessNames!.hidden = !(k === 'users' || k === 'groups');
      this.accessNames!.placeholder = k === 'users' ? (email ? 'jane@example.com, bob@example.com' : 'jane, bob') : 'finance, data-team';
      hint.textContent =
        k === 'users'
          ? email
            ? 'E-mail addresses, separated by commas' + (info.accessEmailDomain ? ` (a bare name gets @${info.accessEmailDomain}).` : '.')
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

  /** The app's size: the platform default, a named preset, or custom amounts within the maxima. */
  private sizeFields(form: HTMLElement, choice: IPlanChoice): void {
    const { info, platform } = this.view;
    const presets = platform?.presets ?? [];
    const box = el('fieldset', undefined, 'jp-n2a-fieldset jp-n2a-resource-fields');
    box.appendChild(el('legend', 'Size'));
    this.sizeSelect = el('select', undefined, 'jp-mod-styled jp-n2a-size');
    this.sizeSelect.setAttribute('aria-label', 'Size');
    const defaults = sizeWords({ limits: info.resources?.limits });
    const options: [string, string][] = [
      ['', `platform default${defaults ? `: ${defaults}` : ''}`],
      ...presets.map(p => [p.name, `${p.name}: ${cpuWords(p.cpu)}, ${memoryWords(p.memory)} memory`] as [string, string]),
      ['custom', 'custom']
    ];
    for (const [value, label] of options) {
      const option = el('option', label);
      option.value = value;
      option.selected = value === choice.size;
      this.sizeSelect.appendChild(option);
    }
    box.appendChild(this.sizeSelect);
    const custom = el('div', undefined, 'jp-n2a-custom-size');
    const max = info.maxResources ?? {};
    const fields: [string, string, string, string | number | undefined][] = [
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
      const field = input(`jp-n2a-${key}`, label, String((choice as any)[key] ?? ''), placeholder);
      field.size = 8;
      wrap.appendChild(field);
      if (maximum !== undefined) {
        const none = key === 'gpu' && Number(maximum) === 0;
        wrap.appendChild(el('span', none ? 'none on this platform' : `max ${maximum}`, `jp-n2a-max jp-n2a-max-${key}`));
        if (none && !field.value) {
          field.disabled = true;
        }
      }
      this.amounts[key] = field;
      custom.appendChild(wrap);
    }
    custom.appendChild(el('p', 'CPU and memory are what the app may use and is guaranteed alike; empty: the default.', 'jp-n2a-hint'));
    box.appendChild(custom);
    const update = () => {
      custom.hidden = this.sizeSelect!.value !== 'custom';
    };
    this.sizeSelect.addEventListener('change', update);
    update();
    form.appendChild(box);
  }

  /** Environment variables read from the cluster's secrets: a name and a reference, never a value. */
  private secretFields(form: HTMLElement, rows: ISecretRow[]): void {
    const { info, plan } = this.view;
    const app = plan?.app ?? '<app>';
    const box = el('fieldset', undefined, 'jp-n2a-fieldset jp-n2a-secret-fields');
    box.appendChild(el('legend', 'Secrets'));
    const table = el('table', undefined, 'jp-n2a-secret-table');
    this.secretRows = el('tbody');
    table.appendChild(this.secretRows);
    box.appendChild(table);
    const example = info.secretStore ? `${app}/openai` : `${app}-keys/openai`;
    const addRow = (row: ISecretRow) => {
      const tr = el('tr', undefined, 'jp-n2a-secret-row');
      const name = input('jp-n2a-secret-name', 'Variable name', row.name, 'OPENAI_API_KEY');
      const ref = input('jp-n2a-secret-ref', info.secretStore ? 'Key in the secret store' : 'Secret and key', row.ref, example);
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
    rows.forEach(addRow);
    const add = el('button', 'Add secret', 'jp-mod-styled jp-n2a-secret-add');
    add.type = 'button';
    add.addEventListener('click', () => addRow({ name: '', ref: '' }).focus());
    box.appendChild(add);
    const allowed = (info.secretsAllowed ?? [])
      .map(p => (plan ? p.split('{app}').join(plan.app).split('{owner}').join(plan.owner) : p))
      .join(', ');
    const form_ = info.secretStore
      ? `the key in the secret store ${info.secretStore}`
      : 'the secret\'s name, a slash, and the key in it';
    box.appendChild(
      el(
        'p',
        `The app reads the value as an environment variable; it stays in the cluster, never in git. Give ${form_}` +
          (allowed ? ` (this platform allows ${allowed}).` : '.'),
        'jp-n2a-hint jp-n2a-secret-hint'
      )
    );
    form.appendChild(box);
  }

  getValue(): IPlanChoice {
    const previous = this.view.choice;
    let access = previous.access;
    if (this.accessSelect) {
      const kind = this.accessSelect.value;
      if (kind === 'users' || kind === 'groups') {
        const names = (this.accessNames?.value ?? '').split(',').map(n => n.trim()).filter(n => n);
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
    const amount = (key: string) => (this.amounts[key] ? this.amounts[key].value.trim() : String((previous as any)[key] ?? ''));
    return {
      name: this.nameInput.value.trim(),
      framework: this.frameworkSelect.value,
      access,
      secretEnv: this.secretRows ? secretEnv : previous.secretEnv,
      size: this.sizeSelect ? this.sizeSelect.value : previous.size,
      cpu: amount('cpu'),
      memory: amount('memory'),
      gpu: amount('gpu'),
      replicas: amount('replicas'),
      check: this.checkBox ? this.checkBox.checked : previous.check,
      include: this.files ? this.files.include() : previous.include,
      idle: this.idle ? this.idle.idle() : previous.idle,
      alwaysOn: this.idle ? this.idle.alwaysOn() : previous.alwaysOn
    };
  }
}

