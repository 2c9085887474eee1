/**
 * The portal's calls to the Hookline API, all with the session token as the bearer. Errors come back
 * as ApiError carrying the API's `{error: {code, message, details}}`; a 401 (expired or unknown
 * token) also reaches `onSessionEnded`, which replaces the whole page with a message.
 */

export type Access = 'read-only' | 'read-write';

export interface ErrorDetail {
  path?: string;
  message?: string;
  id?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[],
  ) {
    super(message);
  }
}

export interface Session {
  access: Access;
  /** RFC 3339; when the link stops working. */
  expiresAt: string;
}

export interface Api {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  patch<T>(path: string, body: unknown, ifMatch?: number): Promise<T>;
  remove(path: string): Promise<void>;
  /** What the session may do, read from the first answer (`Hookline-Portal-Access`). */
  session(): Promise<Session>;
}

export function createApi(token: string, onSessionEnded: (message: string) => void): Api {
  async function call<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const init: RequestInit = { method, headers: { authorization: `Bearer ${token}`, ...headers } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
    let res: Response;
    try {
      res = await fetch(path, init);
    } catch {
      throw new ApiError(
        0,
        'network',
        'The service could not be reached. Check your connection and try again.',
        [],
      );
    }
    const text = await res.text();
    const parsed: unknown = text === '' ? null : safeJson(text);
    if (!res.ok) {
      const error = (
        parsed as { error?: { code?: string; message?: string; details?: ErrorDetail[] } } | null
      )?.error;
      const problem = new ApiError(
        res.status,
        error?.code ?? 'error',
        error?.message ?? `The service answered ${res.status}.`,
        Array.isArray(error?.details) ? error.details : [],
      );
      if (res.status === 401) onSessionEnded(problem.message);
      throw problem;
    }
    return { body: parsed as T, headers: res.headers };
  }
  return {
    get: async <T>(path: string) => (await call<T>('GET', path)).body,
    post: async <T>(path: string, body?: unknown) => (await call<T>('POST', path, body ?? {})).body,
    patch: async <T>(path: string, body: unknown, ifMatch?: number) =>
      (await call<T>('PATCH', path, body, ifMatch === undefined ? {} : { 'if-match': String(ifMatch) })).body,
    remove: async (path: string) => {
      await call<null>('DELETE', path);
    },
    async session() {
      const { headers } = await call<unknown>('GET', '/v1/usage');
      return {
        access: headers.get('hookline-portal-access') === 'read-write' ? 'read-write' : 'read-only',
        expiresAt: headers.get('hookline-portal-expires-at') ?? '',
      };
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** A path segment, percent-encoded (event ids may hold `/`). */
export const seg = (value: string) => encodeURIComponent(value);
