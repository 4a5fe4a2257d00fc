import { createHash } from "node:crypto";
import net from "node:net";
import os from "node:os";
import { ErrorCodes, TmuxClaudeError } from "../errors.js";
import { joinLocalLine } from "./local-line.js";

/** Releases the mutex. Calling it again does nothing. */
export type ReleaseMutex = () => Promise<void>;

/**
 * A mutex shared by every process of this user on this machine, for short
 * critical sections between short-lived processes (CLI commands).
 *
 * On Linux it is an abstract Unix socket: whoever listens on the name holds
 * it. The kernel frees the name the instant the holder exits, even after
 * `kill -9`, so there is nothing stale to judge or steal. Waiters connect to
 * the holder and are woken when it closes their connection on release: no
 * polling. Where there are no abstract sockets (not Linux) it resolves with
 * undefined and the caller uses the file lock (store/lock.ts) instead.
 */
export async function acquireMachineMutex(name: string, options: { timeoutMs: number }): Promise<ReleaseMutex | undefined> {
  if (process.platform !== "linux") return undefined;
  const { ahead, leave: leaveQueue } = joinLocalLine(localTails, name);
  try {
    await ahead;
    const server = await listenExclusively(abstractAddress(name), name, Date.now() + options.timeoutMs);
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      closeServer(server);
      leaveQueue();
    };
  } catch (error) {
    leaveQueue();
    throw error;
  }
}

/** Abstract socket names are limited to 107 bytes: long names (paths) are hashed. */
function abstractAddress(name: string): string {
  const user = process.getuid?.() ?? os.userInfo().username;
  const short = name.length <= 60 ? name : createHash("sha256").update(name).digest("hex").slice(0, 40);
  return `\0tmux-claude-${user}-${short}`;
}

/** One process at a time per name: in-process callers line up here instead of on the socket. */
const localTails = new Map<string, Promise<void>>();

async function listenExclusively(address: string, name: string, deadline: number): Promise<net.Server> {
  for (;;) {
    const server = net.createServer((socket) => {
      // Held open until release; closing it is how the waiter learns the mutex is free.
      socket.on("error", () => undefined);
      connections(server).add(socket);
      socket.once("close", () => connections(server).delete(socket));
    });
    const outcome = await new Promise<"held" | "busy">((resolve, reject) => {
      server.once("error", (error: NodeJS.ErrnoException) => (error.code === "EADDRINUSE" ? resolve("busy") : reject(error)));
      server.listen(address, () => resolve("held"));
    });
    if (outcome === "held") {
      // The listening handle must not keep a finished CLI alive.
      server.unref();
      return server;
    }
    if (Date.now() >= deadline) {
      throw new TmuxClaudeError(
        ErrorCodes.LOCK_TIMEOUT,
        `Timed out waiting for the machine-wide lock "${name}": another tmux-claude process on this machine holds it. If one is stuck, stop it; the lock is freed the moment its holder exits.`,
        { key: name },
      );
    }
    await waitForHolder(address, deadline);
  }
}

/** Resolves when the current holder releases (or exits), or at the deadline. */
function waitForHolder(address: string, deadline: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(address);
    const timer = setTimeout(() => socket.destroy(), Math.max(0, deadline - Date.now()));
    timer.unref();
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    // ECONNREFUSED: released between our listen and connect; try again at once.
    socket.once("error", done);
    socket.once("close", done);
  });
}

const serverConnections = new WeakMap<net.Server, Set<net.Socket>>();

function connections(server: net.Server): Set<net.Socket> {
  let set = serverConnections.get(server);
  if (!set) serverConnections.set(server, (set = new Set()));
  return set;
}

/**
 * Frees the name at once: closing a listening handle closes its socket in the
 * same call (libuv calls close(2) there; only the callback waits for a later
 * turn of the event loop), so the next holder, here or elsewhere, can listen
 * right away. Waiting for the callback cost a whole loop turn per release.
 */
function closeServer(server: net.Server): void {
  server.close();
  for (const socket of connections(server)) socket.destroy();
}
