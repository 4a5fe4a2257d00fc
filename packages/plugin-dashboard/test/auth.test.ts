// Who may use the dashboard: the secret, the session cookie, Host, Origin and CSRF.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { dashboard } from "../src/index.js";
import { action, csrfOf, login, rawRequest, SocketClient, startDashboard, type DashboardEnv } from "./helpers.js";

describe("dashboard auth", () => {
  let env: DashboardEnv;
  let cookie: string;
  beforeAll(async () => {
    env = await startDashboard();
    ({ cookie } = await login(env.loginUrl));
  });
  afterAll(async () => env?.close());

  test("the secret is exchanged for an HttpOnly SameSite=Strict session cookie that is not the secret, then 303 to /", async () => {
    const { response, setCookie } = await login(env.loginUrl);
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/");
    expect(response.headers.get("referrer-policy")).toBe("no-referrer");
    expect(setCookie).toMatch(/^tc_dashboard_\d+=[A-Za-z0-9_-]{40,};/u);
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("SameSite=Strict");
    expect(setCookie).toContain("Path=/");
    const secret = new URL(env.loginUrl).searchParams.get("token")!;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/u);
    expect(setCookie).not.toContain(secret);
  });

  test("a wrong secret is refused with 401 and sets no cookie", async () => {
    const response = await fetch(`${env.origin}/?token=not-the-secret`, { redirect: "manual" });
    expect(response.status).toBe(401);
    expect(response.headers.get("set-cookie")).toBeNull();
    expect(await response.text()).toContain("tmux-claude monitor");
  });

  test("with the cookie: the page, the API and the socket answer, with the security headers", async () => {
    const page = await fetch(`${env.origin}/`, { headers: { cookie } });
    expect([200, 500]).toContain(page.status); // 500 only when the client build is missing
    const csp = page.headers.get("content-security-policy")!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/u);
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    const session = await fetch(`${env.origin}/api/session`, { headers: { cookie } });
    expect(session.status).toBe(200);
    expect(session.headers.get("cache-control")).toBe("no-store");
    const body = (await session.json()) as { csrf: string; node: string; plugins: string[] };
    expect(body.plugins).toContain("dashboard");
    expect(body.csrf).toMatch(/^[A-Za-z0-9_-]{40,}$/u);
    expect(JSON.stringify(body)).not.toContain(new URL(env.loginUrl).searchParams.get("token"));
    const socket = await SocketClient.connect(env.origin, { cookie });
    const snapshot = await socket.next((m) => m.type === "snapshot");
    expect(snapshot).toMatchObject({ type: "snapshot", instances: [], messages: [] });
    socket.close();
    // Only the client build and the named vendor files are served, never a path out of them.
    for (const path of ["/assets/..%2f..%2fpackage.json", "/assets/%2e%2e/%2e%2e/package.json", "/assets/vendor/..%2fpackage.json", "/assets/vendor/package.json"]) {
      const response = await rawRequest(env.origin, path, { host: new URL(env.origin).host, cookie });
      expect(response.status, path).toBe(404);
      expect(response.body, path).not.toContain('"name"');
    }
    const vendor = await fetch(`${env.origin}/assets/vendor/xterm.css`, { headers: { cookie } });
    expect(vendor.status).toBe(200);
    expect(vendor.headers.get("content-type")).toContain("text/css");
  });

  test("without a cookie, or with a forged one: the page, the API and the socket get 401", async () => {
    for (const headers of [{}, { cookie: `${cookie.split("=")[0]}=forged-session-id` }, { cookie: "tc_dashboard=whatever" }]) {
      const page = await fetch(`${env.origin}/`, { headers });
      expect(page.status).toBe(401);
      expect(await page.text()).toContain("open the URL that `tmux-claude monitor` printed");
      for (const path of ["/api/session", "/api/instances", "/api/messages", "/assets/app.js", "/assets/vendor/xterm.js"]) {
        const response = await fetch(`${env.origin}${path}`, { headers });
        expect(response.status, path).toBe(401);
      }
      const api = await fetch(`${env.origin}/api/instances`, { headers });
      expect(((await api.json()) as { error: { code: string } }).error.code).toBe("TC_DASHBOARD_UNAUTHORIZED");
      expect(await SocketClient.refusal(env.origin, headers)).toBe(401);
    }
  });

  test("/health needs no cookie", async () => {
    const health = await fetch(`${env.origin}/health`);
    expect([200, 503]).toContain(health.status);
    expect(await health.json()).toHaveProperty("checks");
  });

  test("a foreign Host (DNS rebinding) or Origin (another site) gets 403, for the page, the API, /health and the socket", async () => {
    const port = env.address.port;
    for (const host of ["evil.example", `evil.example:${port}`, `127.0.0.1:${port + 1}`]) {
      for (const path of ["/", "/api/instances", "/health", "/?token=x"]) {
        const response = await rawRequest(env.origin, path, { host, cookie });
        expect(response.status, `${host} ${path}`).toBe(403);
      }
      expect(await SocketClient.refusal(env.origin, { host, cookie })).toBe(403);
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`]) {
      expect((await rawRequest(env.origin, "/api/instances", { host, cookie })).status, host).toBe(200);
    }
    for (const origin of ["http://evil.example", `http://localhost:${port + 1}`, "null"]) {
      const response = await fetch(`${env.origin}/api/instances`, { headers: { cookie, origin } });
      expect(response.status, origin).toBe(403);
      expect(await SocketClient.refusal(env.origin, { cookie, origin })).toBe(403);
    }
    const same = await fetch(`${env.origin}/api/instances`, { headers: { cookie, origin: env.origin } });
    expect(same.status).toBe(200);
  });

  test("an action without or with a wrong CSRF token gets 403; with it, it runs", async () => {
    const { instance: spawned } = await env.harness.kernel.spawn({ role: "specialist", workDir: env.harness.workDir });
    const missing = await action(env.origin, cookie, undefined, spawned.id, "send", { text: "hello" });
    expect(missing.status).toBe(403);
    expect(missing.json.error.message).toContain("x-csrf-token");
    const wrong = await action(env.origin, cookie, "not-the-token", spawned.id, "send", { text: "hello" });
    expect(wrong.status).toBe(403);
    // Another session's token is not this session's.
    const other = await login(env.loginUrl);
    const otherCsrf = await csrfOf(env.origin, other.cookie);
    expect((await action(env.origin, cookie, otherCsrf, spawned.id, "send", { text: "hello" })).status).toBe(403);
    expect(await env.harness.received()).toEqual([]);
    const csrf = await csrfOf(env.origin, cookie);
    const sent = await action(env.origin, cookie, csrf, spawned.id, "send", { text: "hello" });
    expect(sent.status, JSON.stringify(sent.json)).toBe(200);
    expect(sent.json).toMatchObject({ instanceId: spawned.id, state: "delivered" });
  });
});

test("a cookie of an earlier start of the server is refused (401) on the same port", async () => {
  const env = await startDashboard();
  try {
    const { cookie } = await login(env.loginUrl);
    expect((await fetch(`${env.origin}/api/instances`, { headers: { cookie } })).status).toBe(200);
    await env.harness.kernel.close();
    const second = await env.harness.startKernel({ config: { plugins: [dashboard({ port: env.address.port })] } });
    const api = second.plugin<{ listening(): Promise<{ port: number }> }>("dashboard")!;
    expect((await api.listening()).port).toBe(env.address.port);
    expect((await fetch(`${env.origin}/api/instances`, { headers: { cookie } })).status).toBe(401);
    expect((await fetch(`${env.origin}/`, { headers: { cookie } })).status).toBe(401);
    expect(await SocketClient.refusal(env.origin, { cookie })).toBe(401);
  } finally {
    await env.close();
  }
});
