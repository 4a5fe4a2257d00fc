// `/api/socket`: the live feed. The upgrade is authenticated (Host, Origin,
// session cookie) before the socket is accepted, so a refused client never
// gets a WebSocket at all. Then: the snapshot, every model change, and the
// terminals the page opens.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { KernelApi, Logger } from "@tmux-claude/core";
import { WebSocketServer, type WebSocket } from "ws";
import { z } from "zod";
import { DashboardErrorCodes } from "../errors.js";
import type { LiveModel } from "../model/live-model.js";
import type { RunsFeed } from "../model/runs.js";
import type { KnowledgeFeed } from "../model/knowledge.js";
import { SOCKET_PATH, type ServerMessage } from "../protocol.js";
import { NOT_LOGGED_IN } from "./app.js";
import type { Auth } from "./auth.js";

/** A page that stops reading (a frozen tab) is dropped rather than buffered without bound. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/** Scrollback sent when a terminal opens, so a page that opens late still sees what scrolled off. */
const TERMINAL_HISTORY_LINES = 1000;

const clientMessage = z.discriminatedUnion("type", [
  z.object({ type: z.literal("open"), id: z.string().min(1) }).strict(),
  z.object({ type: z.literal("close"), id: z.string().min(1) }).strict(),
]);

export interface SocketDeps {
  kernel: KernelApi;
  auth: Auth;
  model: LiveModel;
  /** The workflow runs, when the workflows plugin is loaded. */
  workflows: { feed: RunsFeed } | undefined;
  /** Shared knowledge and file claims, when the knowledge plugin is loaded. */
  knowledge: KnowledgeFeed | undefined;
  logger: Logger;
}

export class SocketHub {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });

  constructor(private readonly deps: SocketDeps) {
    this.wss.on("connection", (socket: WebSocket) => new Connection(socket, deps).start());
  }

  /**
   * The node server's `upgrade` event. An exception thrown from an `upgrade`
   * listener is uncaught and ends the process, so nothing may escape: any
   * failure answers 400 (or 500) on this one socket.
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on("error", (error) => this.deps.logger.debug({ err: error }, "dashboard: upgrade socket error"));
    try {
      this.authorizeUpgrade(request, socket, head);
    } catch (error) {
      this.deps.logger.warn({ err: error }, "dashboard: handling a socket upgrade failed");
      if (!socket.destroyed) refuse(socket, 500, "The dashboard could not handle this upgrade; see its log.");
    }
  }

  private authorizeUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const { auth } = this.deps;
    const host = request.headers.host;
    const path = pathOf(request.url);
    if (path === undefined) return refuse(socket, 400, `Malformed request target ${JSON.stringify(request.url)}: connect to ${SOCKET_PATH}.`);
    if (path !== SOCKET_PATH) return refuse(socket, 404, `No socket at ${path}; the dashboard's is ${SOCKET_PATH}.`);
    if (!auth.hostAllowed(host)) return refuse(socket, 403, `Host "${host ?? ""}" is not this dashboard's.`);
    if (!auth.originAllowed(request.headers.origin, host)) return refuse(socket, 403, `Origin "${request.headers.origin}" is not this dashboard's page.`);
    if (!auth.session(request.headers.cookie)) return refuse(socket, 401, NOT_LOGGED_IN);
    this.wss.handleUpgrade(request, socket, head, (ws) => this.wss.emit("connection", ws, request));
  }

  close(): void {
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
  }
}

/**
 * The path of an origin-form request target (`/api/socket?x`), or undefined
 * for anything else (`http://[`, `//host/path`): read without `new URL`, which
 * throws on such targets, and without resolving `//host` as a host.
 */
function pathOf(target: string | undefined): string | undefined {
  if (target === undefined || !target.startsWith("/") || target.startsWith("//")) return undefined;
  const query = target.indexOf("?");
  return query === -1 ? target : target.slice(0, query);
}

function refuse(socket: Duplex, status: 400 | 401 | 403 | 404 | 500, message: string): void {
  const reason = { 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 500: "Internal Server Error" }[status];
  const body = `${message}\n`;
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** One page's socket: its model subscription and its open terminals. */
class Connection {
  private readonly terminals = new Map<string, () => void>();
  private unsubscribe: (() => void) | undefined;
  private unsubscribeRuns: (() => void) | undefined;
  private unsubscribeKnowledge: (() => void) | undefined;
  private inbox: Promise<void> = Promise.resolve();

  constructor(
    private readonly socket: WebSocket,
    private readonly deps: SocketDeps,
  ) {}

  start(): void {
    const { model, kernel } = this.deps;
    this.send({ type: "snapshot", node: kernel.node, plugins: kernel.pluginNames(), instances: model.instances(), messages: model.timeline() });
    this.unsubscribe = model.subscribe((message) => this.send(message));
    const runs = this.deps.workflows?.feed;
    if (runs) {
      this.send({ type: "runs", runs: runs.runs() });
      this.unsubscribeRuns = runs.subscribe((message) => this.send(message));
    }
    const knowledge = this.deps.knowledge;
    if (knowledge) {
      this.send({ type: "knowledge", knowledge: knowledge.current() });
      this.unsubscribeKnowledge = knowledge.subscribe((message) => this.send(message));
    }
    // One frame at a time: a quick open-then-close must not leave the terminal open.
    this.socket.on("message", (data, isBinary) => {
      this.inbox = this.inbox
        .then(() => this.receive(isBinary ? null : data.toString()))
        .catch((error: unknown) => this.deps.logger.warn({ err: error }, "dashboard: handling a socket message failed"));
    });
    this.socket.on("close", () => this.dispose());
    this.socket.on("error", (error) => this.deps.logger.debug({ err: error }, "dashboard: socket error"));
  }

  private send(message: ServerMessage): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    if (this.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.socket.close(1013, "the page stopped reading; reload it");
      return;
    }
    this.socket.send(JSON.stringify(message));
  }

  private error(code: string, message: string): void {
    this.send({ type: "error", code, message });
  }

  private async receive(text: string | null): Promise<void> {
    let raw: unknown;
    try {
      raw = text === null ? undefined : JSON.parse(text);
    } catch {
      raw = undefined;
    }
    const parsed = clientMessage.safeParse(raw);
    if (!parsed.success) {
      const shown = text === null ? "a binary frame" : JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
      return this.error(DashboardErrorCodes.BAD_REQUEST, `Malformed message ${shown}: send JSON {"type": "open" | "close", "id": "<instance id>"}.`);
    }
    const { type, id } = parsed.data;
    if (type === "close") return this.closeTerminal(id);
    await this.openTerminal(id);
  }

  private async openTerminal(id: string): Promise<void> {
    if (!this.deps.model.instance(id)) return this.error(DashboardErrorCodes.NOT_FOUND, `No instance "${id}": it may have been terminated.`);
    this.closeTerminal(id);
    // Chunks that arrive before the screen is sent wait, so the page writes the screen first.
    let early: Buffer[] | undefined = [];
    const stream = (chunk: Buffer) => {
      if (early) early.push(chunk);
      else this.send({ type: "output", id, data: chunk.toString("base64") });
    };
    let subscription: Awaited<ReturnType<KernelApi["output"]>>;
    try {
      subscription = await this.deps.kernel.output(id, stream, { history: TERMINAL_HISTORY_LINES });
    } catch (error) {
      return this.error(DashboardErrorCodes.NOT_FOUND, `Cannot show the terminal of "${id}": ${error instanceof Error ? error.message : String(error)}`);
    }
    if (this.socket.readyState !== this.socket.OPEN) return subscription.unsubscribe();
    let ended = false;
    this.terminals.set(id, () => {
      ended = true;
      subscription.unsubscribe();
    });
    this.send({ type: "screen", id, data: subscription.screen, ...subscription.size });
    for (const chunk of early) this.send({ type: "output", id, data: chunk.toString("base64") });
    early = undefined;
    void subscription.ended.then(() => {
      if (ended) return;
      this.terminals.delete(id);
      this.send({ type: "ended", id });
    });
  }

  private closeTerminal(id: string): void {
    this.terminals.get(id)?.();
    this.terminals.delete(id);
  }

  private dispose(): void {
    this.unsubscribe?.();
    this.unsubscribeRuns?.();
    this.unsubscribeKnowledge?.();
    for (const stop of this.terminals.values()) stop();
    this.terminals.clear();
  }
}
