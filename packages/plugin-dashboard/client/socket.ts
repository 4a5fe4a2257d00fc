// The one WebSocket to the server. When it drops, it reconnects with backoff;
// before each attempt it asks whether the session is still valid, because a
// restarted server has a new secret and forgets old sessions: then the page
// says to open the newly printed URL instead of retrying forever. After a
// reconnect the caller re-opens its terminal (a new connection streams nothing).
import type { ClientMessage, ServerMessage } from "./protocol.js";

export type ConnectionState = "connecting" | "connected" | "disconnected" | "signed-out";

export interface SocketClientOptions {
  url: string;
  onMessage(message: ServerMessage): void;
  onState(state: ConnectionState): void;
  /** Called after every (re)connect, so callers can send their `open` again. */
  onOpen?(): void;
  /** Resolves "valid", "signed-out" (401) or "unreachable"; asked before every reconnect. */
  checkSession(): Promise<"valid" | "signed-out" | "unreachable">;
}

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5_000;

export class SocketClient {
  #socket: WebSocket | undefined;
  #retryMs = FIRST_RETRY_MS;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  readonly #options: SocketClientOptions;

  constructor(options: SocketClientOptions) {
    this.#options = options;
  }

  connect(): void {
    if (this.#closed) return;
    this.#options.onState("connecting");
    const socket = new WebSocket(this.#options.url);
    this.#socket = socket;
    socket.addEventListener("open", () => {
      this.#retryMs = FIRST_RETRY_MS;
      this.#options.onState("connected");
      this.#options.onOpen?.();
    });
    socket.addEventListener("message", (event) => {
      if (typeof event.data !== "string") return;
      let message: ServerMessage;
      try {
        message = JSON.parse(event.data) as ServerMessage;
      } catch {
        console.warn("dashboard: the server sent a frame that is not JSON; ignored");
        return;
      }
      this.#options.onMessage(message);
    });
    socket.addEventListener("close", () => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      this.#options.onState("disconnected");
      this.#scheduleReconnect();
    });
  }

  send(message: ClientMessage): void {
    if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify(message));
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#socket?.close();
  }

  #scheduleReconnect(): void {
    if (this.#closed) return;
    const delay = this.#retryMs;
    this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_MS);
    this.#retryTimer = setTimeout(() => void this.#retry(), delay);
  }

  async #retry(): Promise<void> {
    const session = await this.#options.checkSession();
    if (this.#closed) return;
    if (session === "signed-out") {
      this.#closed = true;
      this.#options.onState("signed-out");
      return;
    }
    if (session === "unreachable") return this.#scheduleReconnect();
    this.connect();
  }
}

export function socketUrl(location: Location): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/api/socket`;
}
