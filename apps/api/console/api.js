/* global sessionStorage, crypto, URLSearchParams */
// The /v1 API with the user's key: every call sends `Authorization: Bearer <key>` (none when the API runs open).

const KEY_STORAGE = 'baton.console.apiKey';

/** The key, kept for this tab only (sessionStorage): closing the tab forgets it. */
export const keyStore = {
  get() {
    return sessionStorage.getItem(KEY_STORAGE);
  },
  set(key) {
    sessionStorage.setItem(KEY_STORAGE, key);
  },
  clear() {
    sessionStorage.removeItem(KEY_STORAGE);
  },
};

/** An RFC 9457 problem answered by the API (or a network failure, status 0). */
export class ApiProblem extends Error {
  constructor(status, title, detail) {
    super(detail ? `${title}: ${detail}` : title);
    this.status = status;
    this.title = title;
    this.detail = detail;
  }
}

export function authHeaders(key) {
  return key ? { authorization: `Bearer ${key}` } : {};
}

export class Api {
  constructor(key) {
    this.key = key;
  }

  async request(method, path, body, headers = {}) {
    let res;
    try {
      res = await fetch(path, {
        method,
        headers: {
          accept: 'application/json',
          ...authHeaders(this.key),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiProblem(0, 'The API is unreachable', String(err && err.message ? err.message : err));
    }
    if (res.status === 204) return null;
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (!res.ok) throw new ApiProblem(res.status, (json && json.title) || `HTTP ${res.status}`, json && json.detail);
    return json;
  }

  listSessions(cursor) {
    const query = new URLSearchParams({ limit: '20' });
    if (cursor) query.set('cursor', cursor);
    return this.request('GET', `/v1/sessions?${query}`);
  }
  session(id) {
    return this.request('GET', `/v1/sessions/${encodeURIComponent(id)}`);
  }
  sessionRoots(id) {
    return this.request('GET', `/v1/sessions/${encodeURIComponent(id)}/tasks?limit=20`);
  }
  pause(id) {
    return this.request('POST', `/v1/sessions/${encodeURIComponent(id)}/pause`);
  }
  resume(id) {
    return this.request('POST', `/v1/sessions/${encodeURIComponent(id)}/resume`);
  }
  submit(sessionId, body) {
    // An idempotency key per submission: a retried request after a lost answer does not submit twice.
    return this.request('POST', `/v1/sessions/${encodeURIComponent(sessionId)}/tasks`, body, { 'idempotency-key': crypto.randomUUID() });
  }
  task(id) {
    return this.request('GET', `/v1/tasks/${encodeURIComponent(id)}`);
  }
  tree(id) {
    return this.request('GET', `/v1/tasks/${encodeURIComponent(id)}/tree`);
  }
  messages(id) {
    return this.request('GET', `/v1/tasks/${encodeURIComponent(id)}/messages`);
  }
  cancel(id) {
    return this.request('POST', `/v1/tasks/${encodeURIComponent(id)}/cancel`);
  }
  /** `{answer}` for a question, `{approved, feedback?}` for an approval; 409 when the task no longer waits. */
  input(id, body) {
    return this.request('POST', `/v1/tasks/${encodeURIComponent(id)}/input`, body, { 'idempotency-key': crypto.randomUUID() });
  }
}
