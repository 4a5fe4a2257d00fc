// The dashboard's server: the hono app on a node HTTP server, the socket on
// its `upgrade` event, listening on loopback unless told otherwise.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import { createAdaptorServer } from "@hono/node-server";
import { TmuxClaudeError, type KernelApi, type Logger } from "@tmux-claude/core";
import { DashboardErrorCodes } from "../errors.js";
import type { GitApiLike } from "../model/git-fields.js";
import type { LiveModel } from "../model/live-model.js";
import type { RunsFeed, WorkflowsApiLike } from "../model/runs.js";
import type { KnowledgeFeed } from "../model/knowledge.js";
import { createApp } from "./app.js";
import { WILDCARD_HOSTS } from "../options.js";
import { Auth } from "./auth.js";
import { SocketHub } from "./socket.js";

export interface ServerDeps {
  kernel: KernelApi;
  model: LiveModel;
  /** plugin-git's api, when loaded. */
  git: GitApiLike | undefined;
  /** The workflows plugin's api and the runs read from it, when loaded. */
  workflows: { api: WorkflowsApiLike; feed: RunsFeed } | undefined;
  /** Shared knowledge and file claims, when the knowledge plugin is loaded. */
  knowledge: KnowledgeFeed | undefined;
  logger: Logger;
}

export interface Listening {
  host: string;
  port: number;
  /** Origin of the page, without the secret. */
  origin: string;
  /** The per-start secret of the login URL: never log it. */
  secret: string;
  /** The login URL (with the secret): never log it. */
  loginUrl: string;
  close(): Promise<void>;
}

export async function startServer(deps: ServerDeps, host: string, port: number): Promise<Listening> {
  const auth = new Auth();
  const app = createApp({ ...deps, auth });
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  const hub = new SocketHub({ ...deps, auth });
  server.on("upgrade", (request, socket, head) => hub.handleUpgrade(request, socket, head));
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      reject(listenError(error, host, port));
    };
    const onListening = () => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
  server.on("error", (error) => deps.logger.error({ err: error }, "dashboard: server error"));
  const actualPort = (server.address() as AddressInfo).port;
  auth.listening(actualPort, host);
  // 0.0.0.0 is no address a browser can open: name this machine (auth accepts its hostname as Host).
  const urlHost = WILDCARD_HOSTS.has(host) ? os.hostname() : host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  const origin = `http://${urlHost}:${actualPort}`;
  let closing: Promise<void> | undefined;
  return {
    host,
    port: actualPort,
    origin,
    secret: auth.secret,
    loginUrl: `${origin}/?token=${auth.secret}`,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        hub.close();
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

/** Each way listening fails, as one error with the code, the host and port, and the fix. */
function listenError(error: NodeJS.ErrnoException, host: string, port: number): Error {
  const where = `${host}:${port}`;
  const choose = "tmux-claude monitor --host <address> / --port <n>, or dashboard({ host, port }) in the config";
  switch (error.code) {
    case "EADDRINUSE":
      return new TmuxClaudeError(
        DashboardErrorCodes.PORT_IN_USE,
        `The dashboard cannot listen on ${where}: the port is in use by another process. Choose another: tmux-claude monitor --port <n>, dashboard({ port: <n> }) in the config, or port 0 for any free port.`,
        { host, port },
      );
    case "EADDRNOTAVAIL":
      return new TmuxClaudeError(
        DashboardErrorCodes.HOST_UNAVAILABLE,
        `The dashboard cannot listen on ${where} (EADDRNOTAVAIL): ${host} is not an address of this machine. Use 127.0.0.1 (the default) or one of this machine's own addresses: ${choose}.`,
        { host, port },
      );
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new TmuxClaudeError(
        DashboardErrorCodes.HOST_UNAVAILABLE,
        `The dashboard cannot listen on ${where} (${error.code}): the host name "${host}" does not resolve. Use 127.0.0.1 (the default), localhost or an address of this machine: ${choose}.`,
        { host, port },
      );
    case "EACCES":
      return new TmuxClaudeError(
        DashboardErrorCodes.PORT_FORBIDDEN,
        `The dashboard cannot listen on ${where} (EACCES): this process may not use port ${port} (ports below 1024 need privileges). Choose a port above 1023: tmux-claude monitor --port <n>, dashboard({ port: <n> }) in the config, or port 0 for any free port.`,
        { host, port },
      );
    default:
      return error;
  }
}
