// HTTP calls: the session (CSRF token, node, plugins), the actions and a run's journal.
import { CSRF_HEADER, type ActionBodies, type ActionName, type ErrorBody, type RunJournalView, type SessionInfo } from "./protocol.js";

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** The browser's own words for a request that reached no server ("Failed to fetch") say nothing to a person. */
export const DISCONNECTED = "disconnected from the dashboard: its server does not answer (stopped, or the network is down). The page reconnects by itself; try again when the header says connected.";

async function request(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch {
    throw new ApiError("disconnected", DISCONNECTED, 0);
  }
}

export async function fetchSession(): Promise<SessionInfo> {
  const response = await request("/api/session", { credentials: "same-origin" });
  if (!response.ok) throw await errorOf(response);
  return (await response.json()) as SessionInfo;
}

/** A workflow run and its journal (the Runs view). */
export async function fetchRunJournal(id: string): Promise<RunJournalView> {
  const response = await request(`/api/runs/${encodeURIComponent(id)}/journal`, { credentials: "same-origin" });
  if (!response.ok) throw await errorOf(response);
  return (await response.json()) as RunJournalView;
}

export async function postAction<A extends ActionName>(csrf: string, id: string, action: A, body: ActionBodies[A]): Promise<unknown> {
  const response = await request(`/api/instances/${encodeURIComponent(id)}/${action}`, {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json", [CSRF_HEADER]: csrf },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw await errorOf(response);
  const text = await response.text();
  return text ? (JSON.parse(text) as unknown) : undefined;
}

/** The server's `{ error: { code, message } }`, or a plain description when the body is something else. */
async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => "");
  try {
    const body = JSON.parse(text) as Partial<ErrorBody>;
    if (body.error?.message) return new ApiError(body.error.code ?? "error", body.error.message, response.status);
  } catch {
    // not JSON: fall through
  }
  return new ApiError("http", `The server answered ${response.status} ${response.statusText}${text ? `: ${text.slice(0, 200)}` : ""}`, response.status);
}
