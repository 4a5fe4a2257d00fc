// The one WebSocket to the server. It reconnects with backoff when the server
// restarts (the cookie is still valid for a restarted `serve` only if the
// secret is the same; otherwise the page says to sign in again), and re-opens
// the terminal that was open, since a new connection starts with no streams.
import type { ClientMessage, ServerMessage } from "./protocol.js";

export type ConnectionState = "connecting" | "connected" | "disconnected";

export interface SocketClientOptions {
  url: string;
  onMessage(message: ServerMessage): void;
  onState(state: ConnectionState): void;
  /** Called after every (re)connect, so callers can send their `open` again. */
  onOpen?(): void;
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
    this.#retryTimer = setTimeout(() => this.connect(), delay);
  }
}

export function socketUrl(location: Location): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/api/socket`;
}
