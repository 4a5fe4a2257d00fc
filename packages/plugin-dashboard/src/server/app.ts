// The dashboard's HTTP routes (hono). Order matters: security headers and the
// Host/Origin checks for everything, then /health and the login exchange
// (no session), then the session check for the page, assets and API.
import { Hono, type Context } from "hono";
import type { KernelApi, Logger } from "@tmux-claude/core";
import { DashboardErrorCodes } from "../errors.js";
import type { GitApiLike } from "../model/git-fields.js";
import type { LiveModel } from "../model/live-model.js";
import type { RunsFeed, WorkflowsApiLike } from "../model/runs.js";
import type { KnowledgeFeed } from "../model/knowledge.js";
import { CSRF_HEADER, type ErrorBody, type SessionInfo } from "../protocol.js";
import { isActionName, runAction } from "./actions.js";
import type { Auth, Session } from "./auth.js";
import { errorBody, HttpError } from "./errors.js";
import { sharedHealth } from "./health-cache.js";
import { registerRunRoutes } from "./runs.js";
import { clientFile, MISSING_BUILD_PAGE, vendorFile } from "./static.js";

export interface AppDeps {
  kernel: KernelApi;
  auth: Auth;
  model: LiveModel;
  /** plugin-git's api, when loaded. */
  git: GitApiLike | undefined;
  /** The workflows plugin's api and the runs read from it, when loaded. */
  workflows: { api: WorkflowsApiLike; feed: RunsFeed } | undefined;
  /** Shared knowledge and file claims, when the knowledge plugin is loaded. */
  knowledge: KnowledgeFeed | undefined;
  logger: Logger;
}

/**
 * No inline script anywhere; styles may be inline because xterm's DOM renderer
 * writes its theme into a <style> element. `connect-src 'self'` covers the socket.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export const NOT_LOGGED_IN =
  "Not logged in to this dashboard: open the URL that `tmux-claude monitor` printed (it carries this server's secret; `tmux-claude monitor` prints it again while the server runs). A link or cookie from an earlier start no longer works.";

export type Env = { Variables: { session: Session } };

export const NO_KNOWLEDGE =
  "The knowledge plugin is not loaded in this serve, so there is no shared knowledge to show: add knowledge() from @tmux-claude/plugin-knowledge to the config's plugins (the CLI's serve and monitor load it by default).";

export function createApp(deps: AppDeps): Hono<Env> {
  const { auth, kernel, model } = deps;
  const app = new Hono<Env>();

  app.use(async (c, next) => {
    await next();
    c.header("Content-Security-Policy", CONTENT_SECURITY_POLICY);
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "no-referrer");
    c.header("X-Frame-Options", "DENY");
    c.header("Cross-Origin-Opener-Policy", "same-origin");
    if (c.req.path === "/" || c.req.path.startsWith("/api/") || c.req.path === "/health") c.header("Cache-Control", "no-store");
  });

  app.use(async (c, next) => {
    const host = c.req.header("host");
    if (!auth.hostAllowed(host)) {
      return fail(c, new HttpError(403, DashboardErrorCodes.FORBIDDEN, `Host "${host ?? ""}" is not this dashboard's: open it as http://127.0.0.1:${auth.port ?? "<port>"}/ (or http://localhost:${auth.port ?? "<port>"}/). A foreign Host is refused against DNS rebinding.`));
    }
    const origin = c.req.header("origin");
    if (!auth.originAllowed(origin, host)) {
      return fail(c, new HttpError(403, DashboardErrorCodes.FORBIDDEN, `Origin "${origin}" is not this dashboard's page: requests from other sites are refused.`));
    }
    return next();
  });

  const health = sharedHealth(() =>
    kernel.health().catch((error: unknown) => ({
      ok: false,
      checks: [{ name: "kernel", ok: false, detail: error instanceof Error ? error.message : String(error) }],
    })),
  );
  app.get("/health", async (c) => {
    const report = await health();
    const body = { ok: report.ok, checks: report.checks.map(({ name, ok, detail }) => ({ name, ok, detail })) };
    return c.json(body, report.ok ? 200 : 503);
  });

  app.get("/", async (c, next) => {
    const token = c.req.query("token");
    if (token === undefined) return next();
    if (!auth.secretMatches(token)) return c.text(`That secret is not this dashboard's. ${NOT_LOGGED_IN}`, 401);
    const session = auth.login();
    c.header("Set-Cookie", auth.setCookie(session));
    // Out of the address bar (and history) at once.
    return c.redirect("/", 303);
  });

  app.use(async (c, next) => {
    const session = auth.session(c.req.header("cookie"));
    if (!session) {
      if (c.req.path.startsWith("/api/")) return fail(c, new HttpError(401, DashboardErrorCodes.UNAUTHORIZED, NOT_LOGGED_IN));
      return c.text(NOT_LOGGED_IN, 401);
    }
    c.set("session", session);
    return next();
  });

  app.get("/", async (c) => {
    const page = await clientFile("index.html");
    if (!page) return c.html(MISSING_BUILD_PAGE, 500);
    return c.body(new Uint8Array(page.body), 200, { "Content-Type": page.type });
  });

  app.get("/assets/vendor/:name", async (c) => {
    const file = await vendorFile(c.req.param("name"));
    if (!file) return c.text(`No vendor file "${c.req.param("name")}".`, 404);
    return c.body(new Uint8Array(file.body), 200, { "Content-Type": file.type });
  });

  app.get("/assets/*", async (c) => {
    let relative: string;
    try {
      relative = decodeURIComponent(c.req.path.slice("/assets/".length));
    } catch {
      return fail(c, new HttpError(400, DashboardErrorCodes.BAD_REQUEST, `Malformed asset path ${JSON.stringify(c.req.path)}.`));
    }
    const file = await clientFile(relative);
    if (!file) return c.text(`No asset "${relative}" in dist/client. Run npm run build in packages/plugin-dashboard.`, 404);
    return c.body(new Uint8Array(file.body), 200, { "Content-Type": file.type });
  });

  app.get("/api/session", (c) => {
    const info: SessionInfo = { csrf: c.get("session").csrf, node: kernel.node, plugins: kernel.pluginNames() };
    return c.json(info);
  });
  app.get("/api/instances", (c) => c.json(model.instances()));
  app.get("/api/instances/:id", (c) => {
    const view = model.instance(c.req.param("id"));
    if (!view) return fail(c, notFound(c.req.param("id")));
    return c.json(view);
  });
  app.get("/api/messages", (c) => c.json(model.timeline()));
  registerRunRoutes(app, deps.workflows, kernel.node);
  app.get("/api/knowledge", (c) => {
    if (!deps.knowledge) return fail(c, new HttpError(404, DashboardErrorCodes.NOT_FOUND, NO_KNOWLEDGE));
    return c.json(deps.knowledge.current());
  });

  app.post("/api/instances/:id/:action", async (c) => {
    if (!auth.csrfMatches(c.get("session"), c.req.header(CSRF_HEADER))) {
      return fail(c, new HttpError(403, DashboardErrorCodes.FORBIDDEN, `Missing or wrong ${CSRF_HEADER} header: send the csrf token from GET /api/session with every action.`));
    }
    const { id, action } = c.req.param();
    if (!isActionName(action)) return fail(c, new HttpError(404, DashboardErrorCodes.NOT_FOUND, `No action "${action}". Actions: send, answer, terminate, restart, merge.`));
    let body: unknown;
    try {
      const text = await c.req.text();
      body = text.trim() === "" ? {} : JSON.parse(text);
    } catch {
      return fail(c, new HttpError(400, DashboardErrorCodes.BAD_REQUEST, `The body of ${action} is not JSON. Send e.g. {"text": "..."} with Content-Type: application/json.`));
    }
    const started = Date.now();
    // A person at the page is the root caller; the audit log (the operation hook) records each action, failed ones too.
    const record = (outcome: { result: unknown } | { error: unknown }) =>
      kernel.recordOperation({
        caller: null,
        surface: "dashboard",
        operation: action,
        target: id,
        args: typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {},
        ...("error" in outcome ? { error: { code: errorBody(outcome.error).body.error.code, message: String((outcome.error as Error)?.message) } } : { result: asRecord(outcome.result) }),
        at: new Date(started).toISOString(),
        durationMs: Date.now() - started,
      });
    try {
      const result = await runAction({ kernel, git: deps.git }, id, action, body);
      deps.logger.info({ instance: id, action }, "dashboard action");
      await record({ result });
      return c.json(result ?? {});
    } catch (error) {
      await record({ error });
      return fail(c, error);
    }
  });

  app.notFound((c) => fail(c, new HttpError(404, DashboardErrorCodes.NOT_FOUND, `No route ${c.req.method} ${c.req.path}.`)));
  app.onError((error, c) => {
    deps.logger.error({ err: error, path: c.req.path }, "dashboard: a request failed");
    return fail(c, error);
  });
  return app;
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export function notFound(id: string): HttpError {
  return new HttpError(404, DashboardErrorCodes.NOT_FOUND, `Instance "${id}" does not exist (any more): it may have been terminated.`);
}

export function fail(c: Context, error: unknown): Response {
  const { status, body } = errorBody(error);
  return c.json(body satisfies ErrorBody, status);
}
