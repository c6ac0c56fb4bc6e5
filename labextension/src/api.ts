// Talks to the n2a server extension (n2a_gitops/jupyter/handlers.py). ServerConnection adds the
// server's token and XSRF cookie, so the extension uses exactly the auth the user already has.
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** Where one requirement line came from. */
export interface IRequirementSource {
  spec: string;
  source: string;
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
}

/** GET /n2a/repo: the GitOps clone the server will publish into. */
export interface IRepoInfo {
  repo: string | null; // relative to the server root; null when the clone lies outside it
  path: string; // absolute path on the server
  frameworks: string[];
  cloned: boolean;
  service?: string; // set when the hub's publish service publishes (and pushes) for the user
}

/** Options the dialog can change; names follow `n2a publish`. */
export interface IPublishOptions {
  notebook: string;
  repo?: string;
  name?: string;
  framework?: string;
}

/** An error as the server extension reports it: a message plus the fix. */
export class N2AError extends Error {
  constructor(
    message: string,
    readonly fix: string | null,
    readonly status: number
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
      throw new N2AError(data.error, data.fix ?? null, response.status);
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
