// Whatever bytes a client sends, the server answers that one connection and
// keeps running: raw requests over TCP, which fetch and ws would not send.
import { connect } from "node:net";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startDashboard, type DashboardEnv } from "./helpers.js";

let env: DashboardEnv;
beforeAll(async () => {
  env = await startDashboard();
});
afterAll(async () => env?.close());

/** Send `text` on a fresh connection; resolves with everything the server wrote once it closes (or after 5 s). */
function rawExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    let received = "";
    const socket = connect(port, "127.0.0.1", () => socket.write(text));
    const timer = setTimeout(() => socket.destroy(), 5000);
    socket.setEncoding("utf8").on("data", (chunk: string) => (received += chunk));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(received);
    });
  });
}

const upgradeHeaders = (port: number) => `Host: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;

test("an upgrade whose target is not a URL (GET http://[) is answered 400 and the server keeps answering", async () => {
  const port = env.address.port;
  const answer = await rawExchange(port, `GET http://[ HTTP/1.1\r\n${upgradeHeaders(port)}`);
  expect(answer).toMatch(/^HTTP\/1\.1 400 /u);
  expect(answer).toContain("/api/socket");
  expect((await fetch(`${env.origin}/health`)).status).toBe(200);
});

test("an upgrade to //host/api/socket is not taken for the socket's path", async () => {
  const port = env.address.port;
  expect(await rawExchange(port, `GET //evil/api/socket HTTP/1.1\r\n${upgradeHeaders(port)}`)).toMatch(/^HTTP\/1\.1 400 /u);
  expect((await fetch(`${env.origin}/health`)).status).toBe(200);
});

test("a malformed request line, a bad target and a bad Host header get 4xx; the server keeps answering", async () => {
  const port = env.address.port;
  const probes = [
    "NOT HTTP AT ALL\r\n\r\n",
    `GET http://[ HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`,
    "GET /health HTTP/1.1\r\nHost: [::1\r\nConnection: close\r\n\r\n",
    "GET /health HTTP/1.0\r\n\r\n",
  ];
  for (const probe of probes) expect(await rawExchange(port, probe), JSON.stringify(probe)).toMatch(/^HTTP\/1\.1 4\d\d /u);
  expect((await fetch(`${env.origin}/health`)).status).toBe(200);
});
