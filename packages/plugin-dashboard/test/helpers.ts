// Drive a real dashboard: a kernel on a private tmux socket (the testkit's
// harness with the echo agent) in serve mode, plain fetch/http and ws clients.
import { request } from "node:http";
import { createHarness, type Harness } from "@tmux-claude/testkit";
import type { UserConfig } from "@tmux-claude/core";
import WebSocket from "ws";
import { dashboard, type DashboardApi, type DashboardAddress } from "../src/index.js";
import type { ServerMessage } from "../src/protocol.js";

export interface DashboardEnv {
  harness: Harness;
  api: DashboardApi;
  address: DashboardAddress;
  /** The login URL with the secret. */
  loginUrl: string;
  origin: string;
  close(): Promise<void>;
}

export async function startDashboard(overrides: UserConfig = {}, options: Parameters<typeof dashboard>[0] = { port: 0 }): Promise<DashboardEnv> {
  const harness = await createHarness({ ...overrides, plugins: [dashboard(options), ...(overrides.plugins ?? [])] }, { label: "dash" });
  const api = harness.kernel.plugin<DashboardApi>("dashboard")!;
  const address = await api.listening();
  return { harness, api, address, loginUrl: api.url()!, origin: address.url, close: () => harness.close() };
}

/** Exchange the secret for a session cookie: the `name=value` to send back, and the raw Set-Cookie. */
export async function login(loginUrl: string): Promise<{ cookie: string; setCookie: string; response: Response }> {
  const response = await fetch(loginUrl, { redirect: "manual" });
  const setCookie = response.headers.get("set-cookie") ?? "";
  return { cookie: setCookie.split(";")[0]!, setCookie, response };
}

export async function csrfOf(origin: string, cookie: string): Promise<string> {
  const response = await fetch(`${origin}/api/session`, { headers: { cookie } });
  return ((await response.json()) as { csrf: string }).csrf;
}

export async function action(origin: string, cookie: string, csrf: string | undefined, id: string, name: string, body: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${origin}/api/instances/${encodeURIComponent(id)}/${name}`, {
    method: "POST",
    headers: { cookie, "content-type": "application/json", ...(csrf === undefined ? {} : { "x-csrf-token": csrf }) },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

/** A request with any headers (fetch will not send a foreign Host). */
export function rawRequest(origin: string, path: string, headers: Record<string, string>): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  const url = new URL(path, origin);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname + url.search, headers, method: "GET" }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** A socket client that keeps every message and waits for the ones a test expects. */
export class SocketClient {
  readonly messages: ServerMessage[] = [];
  private waiters: { check: (message: ServerMessage) => boolean; resolve: (message: ServerMessage) => void }[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const message = JSON.parse(data.toString()) as ServerMessage;
      this.messages.push(message);
      this.waiters = this.waiters.filter((waiter) => (waiter.check(message) ? (waiter.resolve(message), false) : true));
    });
  }

  static async connect(origin: string, headers: Record<string, string>): Promise<SocketClient> {
    const ws = new WebSocket(`${origin.replace(/^http/u, "ws")}/api/socket`, { headers });
    const client = new SocketClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return client;
  }

  /** The status the server refused the upgrade with. */
  static refusal(origin: string, headers: Record<string, string>): Promise<number> {
    const ws = new WebSocket(`${origin.replace(/^http/u, "ws")}/api/socket`, { headers });
    return new Promise((resolve, reject) => {
      ws.once("unexpected-response", (_request, response) => {
        resolve(response.statusCode ?? 0);
        ws.terminate();
      });
      ws.once("open", () => reject(new Error("the socket was accepted")));
      ws.once("error", () => undefined);
    });
  }

  /** The first message (seen from index `from` on, or to come) that matches. */
  next<T extends ServerMessage>(check: (message: ServerMessage) => message is T, timeoutMs?: number, what?: string, from?: number): Promise<T>;
  next(check: (message: ServerMessage) => boolean, timeoutMs?: number, what?: string, from?: number): Promise<ServerMessage>;
  next(check: (message: ServerMessage) => boolean, timeoutMs = 10_000, what = "a socket message", from = 0): Promise<ServerMessage> {
    const seen = this.messages.slice(from).find(check);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.messages.map((m) => m.type))}`)), timeoutMs);
      this.waiters.push({ check, resolve: (message) => (clearTimeout(timer), resolve(message)) });
    });
  }

  send(value: unknown): void {
    this.ws.send(typeof value === "string" ? value : JSON.stringify(value));
  }

  close(): void {
    this.ws.close();
  }
}
