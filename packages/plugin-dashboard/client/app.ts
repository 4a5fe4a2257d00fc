// The dashboard page's entry point (served from dist/client as an ES module;
// no bundler, no CDN): asks for the session, opens the socket and wires the
// views to the store.
import { ApiError, fetchSession } from "./api.js";
import { ConfirmDialog } from "./confirm.js";
import { DetailView } from "./detail.js";
import type { ServerMessage } from "./protocol.js";
import { SocketClient, socketUrl, type ConnectionState } from "./socket.js";
import { RunsView } from "./runs.js";
import { KnowledgeView } from "./knowledge.js";
import { DashboardStore } from "./store.js";
import { TerminalView } from "./terminal.js";
import { TimelineView } from "./timeline.js";
import { TreeView } from "./tree.js";

const SIGN_IN = "Open the URL that `tmux-claude monitor` printed (it carries the secret; `tmux-claude monitor` prints it again).";

function byTestId<T extends HTMLElement>(testid: string): T {
  const node = document.querySelector<T>(`[data-testid="${testid}"]`);
  if (!node) throw new Error(`The page has no element with data-testid="${testid}" (index.html and app.ts disagree)`);
  return node;
}

async function main(): Promise<void> {
  const connection = byTestId("connection");
  const nodeLabel = byTestId("node");
  let csrf = "";
  let plugins: string[] = [];
  try {
    const session = await fetchSession();
    csrf = session.csrf;
    plugins = session.plugins;
    nodeLabel.textContent = session.node;
  } catch (error) {
    const signedOut = error instanceof ApiError && error.status === 401;
    connection.dataset.state = signedOut ? "signed-out" : "disconnected";
    connection.textContent = signedOut ? `Not signed in. ${SIGN_IN}` : `Cannot load the page's session: ${(error as Error).message}`;
    return;
  }

  const store = new DashboardStore();
  const confirm = new ConfirmDialog(document.body);
  const detail = new DetailView(byTestId("detail-panel"), store, confirm, () => csrf);
  let terminal: TerminalView | undefined;

  const select = (id: string | undefined) => {
    tree.select(id);
    detail.show(id);
    terminal?.show(id);
    // An exited instance has no pane to stream: say so instead of a black box (Restart streams the new one).
    if (id && store.instances.get(id)?.status === "exited") terminal?.ended(id);
  };
  const tree = new TreeView(store, byTestId("tree"), byTestId("attention"), select);
  new TimelineView(store, byTestId("timeline"));
  // Only with the workflows plugin: the server sends runs frames then.
  const runs = plugins.includes("workflows") ? new RunsView(byTestId("runs-panel"), byTestId("runs")) : undefined;
  // Only with the knowledge plugin: the server sends knowledge frames then.
  const knowledge = plugins.includes("knowledge") ? new KnowledgeView(byTestId("knowledge-panel"), byTestId("knowledge"), byTestId("claims")) : undefined;

  const showState = (state: ConnectionState) => {
    connection.dataset.state = state;
    connection.textContent =
      state === "signed-out" ? `signed out: the server restarted. ${SIGN_IN}` : state === "disconnected" ? "disconnected from the dashboard (retrying)" : state;
    document.body.dataset.connection = state;
    detail.setConnected(state === "connected");
  };
  const socket = new SocketClient({
    url: socketUrl(window.location),
    onState: showState,
    onOpen: () => terminal?.reopen(),
    checkSession: () =>
      fetchSession().then(
        (session) => {
          csrf = session.csrf;
          return "valid" as const;
        },
        (error: unknown) => (error instanceof ApiError && error.status === 401 ? ("signed-out" as const) : ("unreachable" as const)),
      ),
    onMessage: (message: ServerMessage) => {
      if (runs?.apply(message)) return;
      if (knowledge?.apply(message)) return;
      if (store.apply(message)) {
        if (message.type === "snapshot") nodeLabel.textContent = message.node;
        return;
      }
      switch (message.type) {
        case "screen":
          terminal?.screen(message.id, message.data, message.cols, message.rows);
          break;
        case "output":
          terminal?.output(message.id, message.data);
          break;
        case "ended":
          terminal?.ended(message.id);
          break;
        case "error":
          console.warn(`dashboard: the server reported ${message.code}: ${message.message}`);
          break;
      }
    },
  });
  terminal = new TerminalView(byTestId("terminal-panel"), {
    open: (id) => socket.send({ type: "open", id }),
    close: (id) => socket.send({ type: "close", id }),
  });
  store.subscribe((change) => {
    if (change.kind === "instance") terminal?.resumeIfRestarted(change.instance.id, change.instance.status);
  });
  // Tests and the bench read the terminal's buffer through this (the DOM rows only hold the viewport).
  Object.assign(window, {
    dashboard: { terminalText: () => terminal?.text() ?? "", terminalTail: (lines: number) => terminal?.tail(lines) ?? "", store },
  });
  socket.connect();
}

void main();
