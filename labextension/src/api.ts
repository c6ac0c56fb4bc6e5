// Talks to the n2a server extension (n2a_gitops/jupyter/handlers.py). ServerConnection adds the
// server's token and XSRF cookie, so the extension uses exactly the auth the user already has.
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** Where one requirement line came from. */
export interface IRequirementSource {
  spec: string;
  source: string;
  origin?: string; // e.g. "kernel", "index", "run-time" (servers that resolve imports in the kernel)
}

/** Requests and limits of the app's container, and how many pods run it. */
export interface IResources {
  replicas?: number;
  requests?: { [resource: string]: string | number };
  limits?: { [resource: string]: string | number };
}

/** One variable read from a Secret (or a secret store): names only, never a value. */
export interface ISecretRef {
  env: string;
  secret: string;
  key: string;
  remote?: string; // the store's key, with a secret store
  property?: string;
}

/** The object `n2a publish --json` prints (model.PublishResult). */
export interface IPublishResult {
  app: string;
  framework: string;
  path: string;
  commit: string | null;
  url: string;
  requirements: string[];
  warnings: string[];
  pushed: boolean;
  name: string;
  owner: string;
  evidence: string[];
  requirement_sources: IRequirementSource[];
  files: { path: string; bytes: number }[];
  application: string | null;
  dry_run: boolean;
  changed: boolean;
  notes: string[];
  revision?: string | null;
  access?: string; // public, authenticated, private, users:a,b or groups:g1,g2
  access_detail?: string; // the same in words, e.g. "only jane@example.com"
  resources?: IResources;
  secret_env?: ISecretRef[];
  brought_in?: { path: string; by: string }[]; // files %run brings in
  environment?: { description?: string }; // where imports were resolved (newer servers)
  check?: { passed?: boolean; seconds?: number; status?: number } | null; // with check: the run
  current?: ICurrent | null; // the app as published before this publish (null: a new app)
  data_files?: IDataFile[]; // files the code reads, and the others of the notebook's folder
}

/** What a published app has now (n2a_gitops/stages/current.py): re-publishing starts from it. */
export interface ICurrent {
  path: string;
  access: string | null;
  resources: IResources;
  secret_env: string[]; // "NAME=SECRET/KEY" (or "NAME=KEY" with a secret store)
  kept: string[]; // what the request left out and so kept: "access", "resources", "secret_env"
}

/** A file the code reads (docs/files.md): shipped, included, missing, ... or available to add. */
export interface IDataFile {
  path: string; // relative to the notebook's folder
  cell: string; // e.g. "code cell 3"; '' for an available file
  status: 'shipped' | 'included' | 'missing' | 'outside' | 'folder' | 'too-large' | 'available';
  bytes: number | null;
  how: string;
}

/** GET /n2a/repo: the GitOps clone the server will publish into. */
export interface IRepoInfo {
  repo: string | null; // relative to the server root; null when the clone lies outside it
  path: string; // absolute path on the server
  frameworks: string[];
  cloned: boolean;
  service?: string; // set when the hub's publish service publishes (and pushes) for the user
  // The request keys plan and publish accept (absent from older servers).
  options?: string[];
  // n2a.yaml, for the dialog (absent behind the hub's publish service, which holds the repo).
  accessDefault?: string;
  accessAllowed?: string[];
  accessIdentity?: string; // the claim users: names match: "email" or "preferred_username"
  accessEmailDomain?: string;
  maxResources?: { cpu?: string; memory?: string; gpu?: number; replicas?: number };
  resources?: IResources; // the platform's defaults
  secretStore?: string; // set: secret references are store keys; empty: SECRET/KEY
  secretsAllowed?: string[]; // what an app may read: globs with {app} and {owner}
  scaleToZero?: boolean; // the platform stops idle apps (KEDA)
  idleAfter?: string; // the platform's default idle time, e.g. "15m"
}

/** Where an app is on its way to live (n2a_gitops/jupyter/app_state.py). */
export type AppState = 'unpushed' | 'deploying' | 'live' | 'failing' | 'asleep' | 'pushed';

/** The last traceback of a failing app, frames annotated with their notebook cells. */
export interface ITraceback {
  pod: string;
  previous: boolean;
  lines: string[];
  cell: string | null; // e.g. "code cell 2, line 3": where the last frame came from
}

/** One row of GET /n2a/apps: an app as committed in the clone, and its state. */
export interface IAppRow {
  app: string;
  owner: string;
  url: string;
  framework?: string;
  notebook?: string;
  access?: string;
  access_words?: string;
  resources?: IResources;
  last_commit?: { sha: string; date: string; author: string; message: string } | null;
  state?: AppState; // absent from older servers
  sync?: string | null;
  health?: string | null;
  revision?: string | null;
  message?: string;
  traceback?: ITraceback | null;
}

/** An access kind n2a.yaml allows, and whether the platform can honour it for this user. */
export interface IAccessChoice {
  kind: string;
  words: string;
  available: boolean;
  why: string;
}

/** A named size from n2a.yaml (CPU and memory, requests and limits alike). */
export interface IPreset {
  name: string;
  cpu: string;
  memory: string;
}

/** GET /n2a/apps: the user's apps, why their states may be unknown, what the dialog may offer. */
export interface IAppsAnswer {
  repo: string | null;
  user?: string;
  apps: IAppRow[];
  argocd?: { error: string; fix: string } | null;
  dialog?: {
    push: { possible: boolean; remote: string; reason: string };
    presets: IPreset[];
    access: IAccessChoice[];
    listAll: boolean;
  };
}

/** Options the dialog can change; names follow `n2a publish`. */
export interface IPublishOptions {
  notebook: string;
  repo?: string;
  name?: string;
  framework?: string;
  access?: string;
  secret_env?: string[]; // "NAME=SECRET/KEY" (or "NAME=KEY" with a secret store)
  cpu?: string;
  memory?: string;
  gpu?: number | string; // a string only when it is not a whole number: the server says why
  replicas?: number | string;
  check?: boolean; // sent only when the server lists it among its options
  include?: string[]; // extra files, relative to the Jupyter root
  idle?: string; // scale to zero: stop after this long without visitors
  always_on?: boolean; // scale to zero: keep the pod
  push?: boolean; // publish and deploy: commit, then push with `--push`'s retries
}

/** An error as the server extension reports it: a message plus the fix. */
export class N2AError extends Error {
  constructor(
    message: string,
    readonly fix: string | null,
    readonly status: number,
    readonly exitCode: number | null = null
  ) {
    super(message);
  }
}

async function request<T>(endpoint: string, init: RequestInit = {}): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, 'n2a', endpoint);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new N2AError(
      `cannot reach the Jupyter server: ${error}`,
      'check that the server is running and reload the page',
      0
    );
  }
  const text = await response.text();
  let data: any = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    if (data && typeof data.error === 'string') {
      throw new N2AError(
        data.error,
        typeof data.fix === 'string' ? data.fix : null,
        response.status,
        typeof data.exit_code === 'number' ? data.exit_code : null
      );
    }
    throw new N2AError(
      `the server answered ${response.status} ${response.statusText}`,
      response.status === 404
        ? 'the n2a server extension is not enabled: run `jupyter server extension enable n2a_gitops` and restart'
        : 'see the Jupyter server log',
      response.status
    );
  }
  return data as T;
}

export function repoInfo(notebook: string): Promise<IRepoInfo> {
  return request<IRepoInfo>(`repo?notebook=${encodeURIComponent(notebook)}`);
}

export function apps(notebook?: string): Promise<IAppsAnswer> {
  return request<IAppsAnswer>(notebook ? `apps?notebook=${encodeURIComponent(notebook)}` : 'apps');
}

export function appState(app: string): Promise<IAppRow> {
  return request<IAppRow>(`apps/${encodeURIComponent(app)}`);
}

export interface ILogLine {
  pod: string;
  time: string;
  content: string;
  cell: string | null;
}

export function appLogs(app: string, tail = 200): Promise<{ app: string; lines: ILogLine[] }> {
  return request(`apps/${encodeURIComponent(app)}/logs?tail=${tail}`);
}

export interface ICommit {
  sha: string;
  date: string;
  author: string;
  message: string;
}

export function appHistory(app: string): Promise<{ app: string; commits: ICommit[] }> {
  return request(`apps/${encodeURIComponent(app)}/history`);
}

/** The object `n2a rollback --json` / `n2a delete --json` prints. */
export interface IChange {
  app: string;
  commit: string | null;
  pushed: boolean;
  revision?: string | null;
}

export function rollback(app: string, rev: string, push: boolean): Promise<IChange> {
  return request<IChange>(`apps/${encodeURIComponent(app)}/rollback`, {
    method: 'POST',
    body: JSON.stringify({ rev, push })
  });
}

export function deleteApp(app: string, push: boolean): Promise<IChange> {
  return request<IChange>(`apps/${encodeURIComponent(app)}/delete`, {
    method: 'POST',
    body: JSON.stringify({ push })
  });
}

export function plan(options: IPublishOptions): Promise<IPublishResult> {
  return request<IPublishResult>('plan', {
    method: 'POST',
    body: JSON.stringify(options)
  });
}

export function publish(options: IPublishOptions): Promise<IPublishResult> {
  return request<IPublishResult>('publish', {
    method: 'POST',
    body: JSON.stringify(options)
  });
}
