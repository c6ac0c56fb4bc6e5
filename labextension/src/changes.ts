// Re-publishing an app: what this publish changes about it (who may open it, its secrets, its
// size), from the plan's "current" (the app as published); older servers: from My apps' row.
import { IAppRow, IPublishResult, ISecretRef } from './api';
import { el, sizeWords } from './dom';

/** A secret reference as `--secret-env` spells it: NAME=SECRET/KEY, or NAME=KEY[#PROPERTY]. */
function secretItem(ref: ISecretRef): string {
  if (ref.remote) {
    return `${ref.env}=${ref.remote}${ref.property ? `#${ref.property}` : ''}`;
  }
  return `${ref.env}=${ref.secret}/${ref.key}`;
}

/** Re-publishing an app: say what this publish changes about who may open it, its secrets or
 *  its size, each as "before → after"; or that it keeps them. */
export function changes(parent: HTMLElement, plan: IPublishResult, published: IAppRow[]): void {
  if (plan.current) {
    const before = plan.current;
    const changed: string[] = [];
    if ((before.access ?? '') !== (plan.access ?? '')) {
      changed.push(`access: ${before.access || '(none)'} → ${plan.access}`);
    }
    const refs = (plan.secret_env ?? []).map(secretItem);
    if (JSON.stringify([...before.secret_env].sort()) !== JSON.stringify([...refs].sort())) {
      changed.push(`secrets: ${before.secret_env.join(', ') || '(none)'} → ${refs.join(', ') || '(none)'}`);
    }
    const was = sizeWords(before.resources);
    const will = sizeWords(plan.resources);
    if (was !== will) {
      changed.push(`size: ${was} → ${will}`);
    }
    const text = changed.length
      ? `${plan.app} is already published; this publish changes ${changed.join('; ')}.`
      : `${plan.app} is already published; this publish keeps who may open it, its secrets and its size.`;
    parent.appendChild(el('p', text, changed.length ? 'jp-n2a-changes' : 'jp-n2a-keeps'));
    return;
  }
  const now = published.find(r => r.app === plan.app);
  if (!now) {
    return;
  }
  const changed: string[] = [];
  if (now.access && plan.access && now.access !== plan.access) {
    changed.push(`who may open it (now ${now.access_words || now.access})`);
  }
  if (now.resources && plan.resources && sizeWords(now.resources) !== sizeWords(plan.resources)) {
    changed.push(`its size (now ${sizeWords(now.resources)})`);
  }
  if (changed.length) {
    parent.appendChild(el('p', `${plan.app} is already published: this publish changes ${changed.join(' and ')}.`, 'jp-n2a-changes'));
  }
}
