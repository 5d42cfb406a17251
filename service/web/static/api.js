// The REST API, with the session token and RFC 9457 problems turned into ApiError.

const TOKEN_KEY = "handpost.token";
const PROBLEMS = "https://handpost.dev/problems/";

// sessionStorage: the token lives as long as the tab, and is not shared with other sites.
export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** A fresh Idempotency-Key (getRandomValues: randomUUID needs HTTPS or localhost). */
export function newIdempotencyKey() {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

export class ApiError extends Error {
  constructor(status, problem, headers = null) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.headers = headers;
  }

  /** The problem type's last segment, e.g. "cross-post" or "stale-version". */
  get kind() {
    const type = this.problem.type || "";
    return type.startsWith(PROBLEMS) ? type.slice(PROBLEMS.length) : type;
  }

  /** Per-field messages of a 422: [{field, code, message}]. */
  get fieldErrors() {
    return Array.isArray(this.problem.errors) ? this.problem.errors : [];
  }
}

/**
 * fetch() one endpoint. Resolves {data, etag, status}; rejects with ApiError.
 * A 401 anywhere but the login itself clears the token and asks the app to show the login.
 */
export async function api(path, { method = "GET", body, ifMatch, idempotencyKey, signal } = {}) {
  const headers = { Accept: "application/json, application/problem+json" };
  const current = token.get();
  if (current) headers.Authorization = `Bearer ${current}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (ifMatch) headers["If-Match"] = ifMatch;
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  let response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, {
      title: "Cannot reach Handpost",
      detail: "Handpost did not answer. Check that the service is running and try again.",
    });
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const problem =
      data && typeof data === "object"
        ? data
        : { title: response.statusText, detail: `Handpost answered ${response.status}.` };
    const error = new ApiError(response.status, problem, response.headers);
    if (response.status === 401 && path !== "/auth/login") {
      token.clear();
      window.dispatchEvent(new CustomEvent("handpost:unauthenticated"));
    }
    throw error;
  }
  return { data, etag: response.headers.get("ETag"), status: response.status };
}

/** Every page of a cursor-paginated list, up to `maxPages` (the UI never needs thousands). */
export async function listAll(path, params = {}, maxPages = 5) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < maxPages; page += 1) {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      for (const v of [value].flat()) if (v !== undefined && v !== null && v !== "") query.append(key, v);
    }
    if (cursor) query.set("cursor", cursor);
    const { data } = await api(`${path}?${query}`);
    items.push(...data.items);
    cursor = data.next_cursor;
    if (!cursor) break;
  }
  return { items, more: Boolean(cursor) };
}
