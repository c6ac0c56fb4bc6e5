// Small DOM and wording helpers shared by the dialog and the My apps panel. Text from the server
// always goes in with textContent: a hostile notebook or file name cannot inject markup.
import { IResources, N2AError } from './api';

export function el<K extends keyof HTMLElementTagNameMap>(
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

export function input(className: string, label: string, value: string, placeholder = ''): HTMLInputElement {
  const node = el('input', undefined, `jp-mod-styled ${className}`);
  node.type = 'text';
  node.value = value;
  node.placeholder = placeholder;
  node.autocomplete = 'off';
  node.spellcheck = false;
  node.setAttribute('aria-label', label);
  return node;
}

// The dialog's fields, by the `n2a publish` option the server's messages name.
const FIELDS: { [flag: string]: string } = {
  name: 'App name',
  framework: 'Framework',
  access: 'Who may open the app',
  cpu: 'CPU',
  memory: 'Memory',
  gpu: 'GPUs',
  replicas: 'Replicas',
  'secret-env': 'Secrets',
  check: 'Check that it runs',
  push: 'Publish and deploy'
};

/** The server speaks in `n2a publish` flags; inside the dialog, name its fields instead:
 *  "pass --framework gradio" -> "choose Framework gradio". */
export function inFieldTerms(text: string): string {
  return text
    .replace(/\b(?:pass|publish with|use) (--[a-z])/g, 'choose $1')
    .replace(/--([a-z][a-z-]*)(?:[ =]([^\s,;)]+))?/g, (whole, flag: string, value?: string) => {
      const label = FIELDS[flag];
      if (!label) {
        return whole;
      }
      if (flag === 'access' && value && value.includes(':')) {
        const [kind, names] = value.split(':', 2);
        return `${label} "${kind}" with ${names.split(',').join(', ')}`;
      }
      return value ? `${label} ${value}` : label;
    });
}

export function explain(error: unknown): string {
  if (error instanceof N2AError) {
    return error.fix ? `${error.message}\n\nFix: ${error.fix}` : error.message;
  }
  return String(error);
}

/** "500m" -> "0.5 CPU", "2" -> "2 CPUs". */
export function cpuWords(value: string | number | undefined): string {
  if (value === undefined || value === '') {
    return '';
  }
  const text = String(value);
  const cores = text.endsWith('m') ? Number(text.slice(0, -1)) / 1000 : Number(text);
  if (isNaN(cores)) {
    return `${text} CPU`;
  }
  return `${cores} CPU${cores > 1 ? 's' : ''}`;
}

/** "4Gi" -> "4 GiB", "256Mi" -> "256 MiB". */
export function memoryWords(value: string | number | undefined): string {
  if (value === undefined || value === '') {
    return '';
  }
  const match = /^(\d+(?:\.\d+)?)([KMGTP]i?|[kmgtpe])?$/.exec(String(value));
  if (!match) {
    return String(value);
  }
  const unit = match[2] ?? '';
  const words: { [unit: string]: string } = { Ki: 'KiB', Mi: 'MiB', Gi: 'GiB', Ti: 'TiB', k: 'kB', M: 'MB', G: 'GB', T: 'TB' };
  return `${match[1]} ${words[unit] ?? (unit || 'bytes')}`;
}

/** The app's size in words: "1 CPU, 4 GiB memory" (the limits; what the app may use at most). */
export function sizeWords(resources: IResources | undefined): string {
  const limits = resources?.limits ?? {};
  const parts = [cpuWords(limits.cpu), limits.memory !== undefined ? `${memoryWords(limits.memory)} memory` : ''];
  const gpus = limits['nvidia.com/gpu'] ?? Object.entries(limits).find(([k]) => k.endsWith('/gpu'))?.[1];
  if (gpus) {
    parts.push(`${gpus} GPU${Number(gpus) > 1 ? 's' : ''}`);
  }
  const replicas = resources?.replicas;
  if (replicas !== undefined && replicas !== 1) {
    parts.push(`${replicas} copies`);
  }
  return parts.filter(p => p).join(', ');
}
