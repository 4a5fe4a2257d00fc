import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import { TmuxClaudeError, type KernelApi, type Logger } from "@tmux-claude/core";
import type { Caller } from "./caller.js";
import { McpErrorCodes } from "./errors.js";
import { TokenIndex } from "./tokens.js";
import { createToolServer } from "./tools.js";

export interface HttpEndpointOptions {
  kernel: KernelApi;
  host: string;
  /** 0 = any free port (tests). */
  port: number;
  path: string;
  logger: Logger;
  /** A caller's session was initialized (its initialize request is being answered). */
  onSessionInitialized?: (caller: Caller) => void;
  /** A caller's session asked for its tools (tools/list is being answered). */
  onToolsListed?: (caller: Caller) => void;
}

interface Session {
  id: string;
  caller: Caller;
  transport: StreamableHTTPServerTransport;
  server: McpServer;
}

/** The largest initialize body read before a session exists (the SDK bounds later bodies itself). */
const MAX_INIT_BODY = 1024 * 1024;
/** Sessions one instance may hold; opening one more closes its oldest (a client that never says goodbye). */
const MAX_SESSIONS_PER_CALLER = 16;
const LOOPBACK_NAMES = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

/**
 * Streamable HTTP for the agents. Every request is checked in this order, and
 * a refused request executes nothing: Host (DNS rebinding) and Origin -> 403,
 * path -> 404, `Authorization: Bearer <token>` -> 401, session owner -> 403.
 * A session is bound to the instance that opened it.
 */
export class HttpEndpoint {
  private server: Server | undefined;
  private readonly sessions = new Map<string, Session>();
  private readonly tokens: TokenIndex;
  private boundPort = 0;

  constructor(private readonly options: HttpEndpointOptions) {
    this.tokens = new TokenIndex(options.kernel);
  }

  get port(): number {
    return this.boundPort;
  }

  async listen(): Promise<AddressInfo> {
    if (this.server) return this.server.address() as AddressInfo;
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off("error", reject);
        resolve();
      });
    }).catch((error: NodeJS.ErrnoException) => {
      const hint =
        error.code === "EADDRINUSE"
          ? `Another program (or another tmux-claude serve for this socket) already listens there. Stop it, or choose a port with mcp({ port }) in your config.`
          : `Check the host and port given to mcp({ host, port }) in your config.`;
      throw new TmuxClaudeError(
        McpErrorCodes.LISTEN_FAILED,
        `The MCP endpoint could not listen on ${this.options.host}:${this.options.port}: ${error.message}. ${hint}`,
        { host: this.options.host, port: this.options.port },
        { cause: error },
      );
    });
    server.on("error", (error) => this.options.logger.error({ err: error }, "MCP HTTP server error"));
    this.server = server;
    const address = server.address() as AddressInfo;
    this.boundPort = address.port;
    return address;
  }

  /** Idempotent: ends every session and the listener, including open SSE streams. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await Promise.allSettled([...this.sessions.values()].map((session) => this.closeSession(session)));
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** Close the sessions of an instance that is gone (terminated or exited). */
  closeSessionsOf(instanceId: string): void {
    for (const session of this.sessions.values()) {
      if (session.caller.instanceId === instanceId) void this.closeSession(session);
    }
  }

  private async closeSession(session: Session): Promise<void> {
    this.sessions.delete(session.id);
    await session.transport.close().catch(() => undefined);
    await session.server.close().catch(() => undefined);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { logger } = this.options;
    try {
      const refused = this.checkOrigin(req);
      if (refused) return reply(res, 403, refused);
      const url = new URL(req.url ?? "/", "http://localhost");
      if (url.pathname !== this.options.path) return reply(res, 404, `Not found: the MCP endpoint is ${this.options.path}.`);

      const token = bearerToken(req.headers.authorization);
      if (!token) {
        return reply(res, 401, "Authorization required: send Authorization: Bearer <token> with the instance's TMUX_CLAUDE_MCP_TOKEN.", {
          "WWW-Authenticate": 'Bearer realm="tmux-claude"',
        });
      }
      const auth = await this.tokens.authenticate(token);
      if (!auth.ok) return reply(res, 401, auth.reason, { "WWW-Authenticate": 'Bearer realm="tmux-claude", error="invalid_token"' });
      const caller = auth.caller;

      const sessionId = req.headers["mcp-session-id"];
      if (typeof sessionId === "string" && sessionId !== "") {
        const session = this.sessions.get(sessionId);
        if (!session) return reply(res, 404, "Session not found: it ended or the server restarted. Initialize a new session.", {}, -32001);
        if (session.caller.instanceId !== caller.instanceId) {
          logger.warn({ session: sessionId, owner: session.caller.instanceId, caller: caller.instanceId }, "refused a session used with another instance's token");
          return reply(res, 403, "This session belongs to another instance. Initialize your own session with your own token.");
        }
        await session.transport.handleRequest(req, res);
        return;
      }

      if (req.method !== "POST") {
        return reply(res, 400, "Bad request: no mcp-session-id. Start with a POST initialize request.");
      }
      const body = await readJson(req, MAX_INIT_BODY);
      if (!body.ok) return reply(res, body.status, body.message, {}, -32700);
      if (!isInitializeRequest(body.value)) {
        return reply(res, 400, "Bad request: no mcp-session-id, and this is not an initialize request. Initialize a session first.");
      }
      await this.open(caller, req, res, body.value);
    } catch (error) {
      logger.error({ err: error }, "MCP HTTP request failed");
      if (!res.headersSent) reply(res, 500, `Internal error: ${error instanceof Error ? error.message : String(error)}`, {}, -32603);
      else res.end();
    }
  }

  /** A new session for an authenticated caller, bound to it. */
  private async open(caller: Caller, req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    const server = createToolServer(this.options.kernel, caller);
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        const mine = [...this.sessions.values()].filter((s) => s.caller.instanceId === caller.instanceId);
        for (const old of mine.slice(0, Math.max(0, mine.length - MAX_SESSIONS_PER_CALLER + 1))) void this.closeSession(old);
        this.sessions.set(id, { id, caller, transport, server });
        this.options.logger.debug({ session: id, caller: caller.instanceId }, "MCP session opened");
        this.options.onSessionInitialized?.(caller);
      },
    });
    transport.onclose = () => {
      const id = transport.sessionId;
      if (id && this.sessions.get(id)?.transport === transport) this.sessions.delete(id);
    };
    await server.connect(transport);
    const deliver = transport.onmessage;
    transport.onmessage = (message, extra) => {
      if ("method" in message && message.method === "tools/list") this.options.onToolsListed?.(caller);
      deliver?.(message, extra);
    };
    await transport.handleRequest(req, res, body);
  }

  /**
   * DNS rebinding: a page on another origin that resolves a name to 127.0.0.1
   * still sends its own Host and Origin. Only loopback names with our port (and
   * the configured host) are accepted as Host; an Origin, when sent, must be loopback.
   */
  private checkOrigin(req: IncomingMessage): string | undefined {
    const host = (req.headers.host ?? "").toLowerCase();
    if (!this.allowedHosts().has(host)) {
      return `Forbidden: Host "${req.headers.host ?? ""}" is not this endpoint (expected 127.0.0.1:${this.boundPort}, localhost:${this.boundPort} or [::1]:${this.boundPort}).`;
    }
    const origin = req.headers.origin;
    if (origin !== undefined) {
      let hostname: string | undefined;
      try {
        const parsed = new URL(origin);
        if (parsed.protocol === "http:" || parsed.protocol === "https:") hostname = parsed.hostname.toLowerCase();
      } catch {
        hostname = undefined;
      }
      if (!hostname || !LOOPBACK_NAMES.has(hostname)) return `Forbidden: Origin "${origin}" is not a loopback origin.`;
    }
    return undefined;
  }

  private allowedHosts(): Set<string> {
    const port = this.boundPort;
    const hosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
    const configured = this.options.host.toLowerCase();
    if (!isWildcard(configured)) hosts.add(`${configured.includes(":") ? `[${configured}]` : configured}:${port}`);
    return hosts;
  }
}

export function isWildcard(host: string): boolean {
  return host === "0.0.0.0" || host === "::" || host === "[::]";
}

function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/iu.exec(header ?? "");
  return match?.[1];
}

/** A JSON-RPC error body, as the SDK's transport answers, with a status. */
function reply(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}, code = -32000): void {
  const body = JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null });
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body), ...headers });
  res.end(body);
}

type JsonBody = { ok: true; value: unknown } | { ok: false; status: number; message: string };

async function readJson(req: IncomingMessage, limit: number): Promise<JsonBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return { ok: false, status: 413, message: `Request body over ${limit} bytes.` };
    chunks.push(chunk);
  }
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString("utf8")) };
  } catch {
    return { ok: false, status: 400, message: "Parse error: the body is not JSON." };
  }
}
