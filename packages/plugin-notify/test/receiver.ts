/**
 * A real HTTP receiver on loopback for the notify tests: records every
 * request, answers with scripted statuses, and lets a test wait for the
 * requests it expects (an event per request, no polling).
 */
import { EventEmitter, once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The status the receiver answered with. */
  status: number;
  /** Epoch ms it arrived. */
  at: number;
}

export interface Receiver {
  url: string;
  requests: Received[];
  /** The statuses to answer with next, in order (then 200/204); 0 never answers (a request lost with its sender). */
  failNext(...statuses: number[]): void;
  /** Resolves with the accepted (2xx) requests once `accept` holds for them (and every request so far); rejects after `timeoutMs`. */
  until(accept: (accepted: Received[], all: Received[]) => boolean, timeoutMs?: number, what?: string): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startReceiver(port = 0): Promise<Receiver> {
  const requests: Received[] = [];
  const script: number[] = [];
  const events = new EventEmitter();
  const server = http.createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
    request.on("end", () => {
      const path = request.url ?? "/";
      // Discord answers 204, Slack 200 "ok", as the real ones do.
      const status = script.shift() ?? (path.startsWith("/discord") ? 204 : 200);
      requests.push({ path, headers: request.headers, body, status, at: Date.now() });
      events.emit("request");
      if (status === 0) return;
      response.writeHead(status, { "content-type": "text/plain" }).end(status === 200 ? "ok" : "");
    });
  });
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
  const accepted = () => requests.filter((r) => r.status >= 200 && r.status < 300);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    failNext: (...statuses) => script.push(...statuses),
    until(accept, timeoutMs = 15_000, what = "requests") {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!accept(accepted(), requests)) return;
          cleanup();
          resolve(accepted());
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received: ${JSON.stringify(requests.map((r) => [r.path, r.status]))}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          events.off("request", check);
        };
        events.on("request", check);
        check();
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
