// What the user chooses in the publish dialog, and the words the dialog describes an app in:
// who may open it, its size by preset name. Shared by the dialog (plan.ts) and index.ts.
import { IAppRow, ICurrent, IPreset, IPublishResult, IRepoInfo, IResources } from './api';

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
  size: string; // '' (the platform default), a preset's name, or 'custom'
  cpu: string; // custom only
  memory: string;
  gpu: string;
  replicas: string;
  check: boolean;
  include: string[]; // files of the notebook's folder the user checked to ship (relative to it)
  idle: string; // scale to zero: '' for the platform's idleAfter
  alwaysOn: boolean; // scale to zero: keep the pod while nobody visits
}

/** The parts of a choice that an app keeps when re-published without them. */
export interface IKeptChoice {
  access: string;
  secretEnv: ISecretRow[];
  size: string;
  cpu: string;
  memory: string;
  gpu: string;
  replicas: string;
}

export const ACCESS_WORDS: { [kind: string]: string } = {
  public: 'anyone who has the URL',
  authenticated: 'anyone who signs in',
  private: 'only you',
  users: 'the people you name',
  groups: 'members of the groups you name'
};
export const RESOURCE_KEYS = ['cpu', 'memory', 'gpu', 'replicas'];

/** The access choice split into its kind and the names after "users:" / "groups:". */
export function splitAccess(access: string): { kind: string; names: string } {
  const colon = access.indexOf(':');
  return colon < 0 ? { kind: access, names: '' } : { kind: access.slice(0, colon), names: access.slice(colon + 1) };
}

/** Who may open the app, in words: "only jane@example.com", "anyone who signs in". */
export function accessWords(plan: IPublishResult): string {
  if (plan.access_detail) {
    return plan.access_detail;
  }
  return ACCESS_WORDS[splitAccess(plan.access ?? '').kind] ?? plan.access ?? '';
}

/** The preset whose CPU and memory the resources ask for (requests and limits alike), if any. */
export function presetOf(resources: IResources | undefined, presets: IPreset[]): string {
  const limits = resources?.limits ?? {};
  const requests = resources?.requests ?? {};
  const same = (a: unknown, b: string) => a !== undefined && String(a) === b;
  const found = presets.find(
    p => same(limits.cpu, p.cpu) && same(limits.memory, p.memory) && same(requests.cpu, p.cpu) && same(requests.memory, p.memory)
  );
  return found?.name ?? '';
}

/** The first choice: what the first plan used, and the platform's defaults for the rest. */
export function initialChoice(plan: IPublishResult | null, info: IRepoInfo, check: boolean): IPlanChoice {
  return {
    name: plan?.name ?? '',
    framework: plan?.framework ?? '',
    access: plan?.access ?? info.accessDefault ?? '',
    secretEnv: [],
    size: '',
    cpu: '',
    memory: '',
    gpu: '',
    replicas: '',
    check,
    include: [],
    idle: '',
    alwaysOn: false
  };
}

/** "NAME=SECRET/KEY" -> a row of the Secrets table. */
export function secretRow(item: string): ISecretRow {
  const eq = item.indexOf('=');
  return eq < 0 ? { name: item, ref: '' } : { name: item.slice(0, eq), ref: item.slice(eq + 1) };
}

/** The platform's defaults for what an app keeps: a new app starts from these. */
export function defaultKept(plan: IPublishResult | null, info: IRepoInfo): IKeptChoice {
  return { access: plan?.access ?? info.accessDefault ?? '', secretEnv: [], size: '', cpu: '', memory: '', gpu: '', replicas: '' };
}

/** What a published app has now, as the form's choices (re-publishing starts from them). */
export function keptFromCurrent(current: ICurrent, presets: IPreset[], info: IRepoInfo, fallback: IKeptChoice): IKeptChoice {
  const resources = current.resources ?? {};
  const limits = resources.limits ?? {};
  const requests = resources.requests ?? {};
  const defaults = info.resources ?? {};
  const amount = (key: string): string => {
    const value = limits[key];
    const same = (a: unknown) => a !== undefined && String(a) === String(value);
    if (value === undefined || !same(requests[key])) {
      return '';
    }
    return same(defaults.limits?.[key]) && same(defaults.requests?.[key]) ? '' : String(value);
  };
  const gpus = Object.entries(limits).find(([k]) => k.endsWith('/gpu'))?.[1];
  const custom = {
    cpu: amount('cpu'),
    memory: amount('memory'),
    gpu: gpus !== undefined && String(gpus) !== '0' ? String(gpus) : '',
    replicas: resources.replicas !== undefined && resources.replicas !== 1 ? String(resources.replicas) : ''
  };
  const preset = custom.gpu || custom.replicas ? '' : presetOf(resources, presets);
  const isDefault = !custom.cpu && !custom.memory && !custom.gpu && !custom.replicas;
  return {
    access: current.access ?? fallback.access,
    secretEnv: (current.secret_env ?? []).map(secretRow),
    size: preset || (isDefault ? '' : 'custom'),
    ...(preset ? { cpu: '', memory: '', gpu: '', replicas: '' } : custom)
  };
}

/** The kept parts of CHOICE, to compare with what the app had. */
export function keptOf(choice: IKeptChoice): IKeptChoice {
  const { access, secretEnv, size, cpu, memory, gpu, replicas } = choice;
  return { access, secretEnv, size, cpu, memory, gpu, replicas };
}

/** Which of the kept parts differ between A and B: "access", "secret_env", "resources". */
export function keptDiffer(a: IKeptChoice, b: IKeptChoice): Set<string> {
  const differ = new Set<string>();
  if (a.access !== b.access) {
    differ.add('access');
  }
  if (JSON.stringify(a.secretEnv) !== JSON.stringify(b.secretEnv)) {
    differ.add('secret_env');
  }
  if (a.size !== b.size || (a.size === 'custom' && (a.cpu !== b.cpu || a.memory !== b.memory || a.gpu !== b.gpu || a.replicas !== b.replicas))) {
    differ.add('resources');
  }
  return differ;
}

/** The choices an app has now (My apps' "Publish again"): its name, access and size. */
export function choiceFromRow(row: IAppRow, presets: IPreset[], check: boolean): IPlanChoice {
  const suffix = `-${row.owner}`;
  const preset = presetOf(row.resources, presets);
  const limits = row.resources?.limits ?? {};
  return {
    name: row.owner && row.app.endsWith(suffix) ? row.app.slice(0, -suffix.length) : row.app,
    framework: row.framework ?? '',
    access: row.access ?? '',
    secretEnv: [],
    size: preset || 'custom',
    cpu: preset ? '' : String(limits.cpu ?? ''),
    memory: preset ? '' : String(limits.memory ?? ''),
    gpu: '',
    replicas: row.resources?.replicas !== undefined && row.resources.replicas !== 1 ? String(row.resources.replicas) : '',
    check,
    include: [],
    idle: '',
    alwaysOn: false
  };
}
