// What the user chooses in the publish dialog, and the words the dialog describes an app in:
// who may open it, its size by preset name. Shared by the dialog (plan.ts) and index.ts.
import { IPreset, IPublishResult, IRepoInfo, IResources } from './api';

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
    check
  };
}
