import { connect } from "node:net";
import { createHash } from "node:crypto";
import { definePlugin, ErrorCodes, HEALTH_CHECK_TIMEOUT_MS, TmuxClaudeError, type KernelApi, type Logger, type Plugin, type PluginContext } from "@tmux-claude/core";
import { z } from "zod";
import { HttpEndpoint, isWildcard } from "./http.js";
import { awaitSession, stamp } from "./session-gate.js";
import { MCP_TOKEN_ENV, MCP_URL_ENV, mintToken } from "./tokens.js";

export const PLUGIN_NAME = "mcp";

/** Default ports are taken from this range, one per tmux socket. */
export const PORT_RANGE = { first: 41000, size: 1000 } as const;

export const mcpOptions = z.strictObject({
  /** Address the HTTP endpoint binds; loopback unless you mean otherwise. */
  host: z.string().min(1).default("127.0.0.1"),
  /**
   * TCP port. Default: derived from the tmux socket name (see `defaultPort`),
   * so every process of one setup (serve, one-shot CLI commands) agrees on it
   * without talking to each other. 0 = any free port, only for an in-process
   * server that listens before it spawns (tests).
   */
  port: z.int().min(0).max(65_535).optional(),
  /** URL path of the endpoint. */
  path: z
    .string()
    .regex(/^\/[A-Za-z0-9._~\-/]*$/u, 'a URL path starting with "/"')
    .default("/mcp"),
  /**
   * Adapters whose agents open their MCP session when they start (the claude
   * adapter writes their `--mcp-config`). Their spawn and restart are ready
   * only once the endpoint saw that session initialize and list its tools;
   * [] never waits.
   */
  awaitSession: z.array(z.string().min(1)).default(["claude"]),
});

export type McpOptions = z.input<typeof mcpOptions>;

/**
 * The port for a tmux socket: 41000 + (first 4 bytes of SHA-256(socket) as an
 * unsigned big-endian integer) mod 1000. "tmux-claude" always maps to the
 * same port, on every machine and in every process.
 */
export function defaultPort(socket: string): number {
  return PORT_RANGE.first + (createHash("sha256").update(socket, "utf8").digest().readUInt32BE(0) % PORT_RANGE.size);
}

export interface McpListening {
  /** What instances are told in TMUX_CLAUDE_MCP_URL. */
  url: string;
  host: string;
  port: number;
}

/** `kernel.plugin<McpApi>("mcp")`. */
export interface McpApi {
  /**
   * Start the Streamable HTTP endpoint on this kernel (`tmux-claude serve`).
   * Idempotent. One-shot kernels never call it: they only mint tokens.
   */
  listen(): Promise<McpListening>;
  /** Stop the endpoint (also done when the kernel closes). Idempotent. */
  close(): Promise<void>;
  /** The endpoint URL instances are given; throws before the kernel applied the plugin. */
  readonly url: string;
}

/**
 * The MCP plugin. On every spawn it mints a per-instance secret and adds
 * `TMUX_CLAUDE_MCP_URL` and `TMUX_CLAUDE_MCP_TOKEN` to the spawn plan's env
 * (the claude adapter turns them into a per-instance `--mcp-config`). Its api
 * serves the tools over HTTP; `serveStdio` serves them to a person's client.
 */
export function mcp(options?: McpOptions): Plugin<McpApi> {
  const endpoint = new McpEndpoint();
  const plugin = definePlugin({
    name: PLUGIN_NAME,
    options: mcpOptions,
    setup: (ctx, resolved) => endpoint.setup(ctx, resolved),
  })(options);
  return { ...plugin, api: endpoint };
}

class McpEndpoint implements McpApi {
  private kernel: KernelApi | undefined;
  private ctx: PluginContext | undefined;
  private logger: Logger | undefined;
  private options: z.output<typeof mcpOptions> | undefined;
  private port = 0;
  private http: HttpEndpoint | undefined;
  private listening: Promise<McpListening> | undefined;
  /** Stamps being written; close() lets them finish before the kernel closes the store. */
  private readonly stamping = new Set<Promise<unknown>>();

  setup(ctx: PluginContext, options: z.output<typeof mcpOptions>): void {
    this.kernel = ctx.kernel;
    this.ctx = ctx;
    this.logger = ctx.logger;
    this.options = options;
    this.port = options.port ?? defaultPort(ctx.config.tmux.socket);

    // A restart keeps the instance's token (its plan carries the first launch's env): it stays the same caller.
    ctx.hooks.beforeSpawn.tapPromise(async (plan) => ({
      ...plan,
      env: { ...plan.env, [MCP_URL_ENV]: this.url, [MCP_TOKEN_ENV]: (plan.restart && plan.env[MCP_TOKEN_ENV]) || mintToken() },
    }));
    ctx.hooks.awaitReady.tapPromise(async (gate) => {
      const adapter = ctx.config.agents[gate.instance.agent]?.adapter;
      if (!gate.instance.launch.env[MCP_TOKEN_ENV] || !adapter || !options.awaitSession.includes(adapter)) return;
      await awaitSession(gate, { url: this.url, servedHere: this.http !== undefined, socket: ctx.config.tmux.socket });
    });
    // Sessions of an instance that is gone end with it (its token is refused from now on anyway).
    ctx.hooks.afterTerminate.tapPromise(async ({ instance }) => this.http?.closeSessionsOf(instance.id));
    ctx.hooks.statusChange.tapPromise(async ({ instance, to }) => {
      if (to === "exited") this.http?.closeSessionsOf(instance.id);
    });
    // Once the endpoint was asked to listen (serve), health says whether it still does.
    ctx.hooks.health.tap((checks) => (this.listenAsked ? [...checks, { name: "mcp", check: () => this.health() }] : checks));
    ctx.onClose(() => this.close());
  }

  /** Set by listen(): from then on the endpoint is expected to listen. */
  private listenAsked = false;

  /** Whether the endpoint accepts connections now (a TCP connect to it, as an agent's first step). */
  private async health(): Promise<{ ok: boolean; detail: string }> {
    const http = this.http;
    if (!http?.port) return { ok: false, detail: "the MCP endpoint is not listening" };
    const url = new URL(this.url);
    const host = url.hostname.replace(/^\[|\]$/gu, "");
    await new Promise<void>((resolve, reject) => {
      const socket = connect({ host, port: http.port }, () => {
        socket.destroy();
        resolve();
      });
      socket.once("error", reject);
      // The kernel's health timeout reports it; this only lets go of the socket.
      socket.setTimeout(HEALTH_CHECK_TIMEOUT_MS, () => socket.destroy(new Error("no answer")));
    });
    return { ok: true, detail: `listening on ${url.host}` };
  }

  get url(): string {
    const options = this.options;
    if (!options) {
      throw new TmuxClaudeError(ErrorCodes.KERNEL_STATE, `Plugin "${PLUGIN_NAME}" is not applied yet: start the kernel with mcp() in its plugins first.`, {
        plugin: PLUGIN_NAME,
      });
    }
    const port = this.http?.port || this.port;
    if (port === 0) {
      throw new TmuxClaudeError(
        ErrorCodes.PLUGIN_INVALID,
        `Plugin "${PLUGIN_NAME}" has port 0 (any free port), which is known only once listen() ran; call listen() before spawning, or give mcp({ port }) a port.`,
        { plugin: PLUGIN_NAME },
      );
    }
    const host = isWildcard(options.host) ? "127.0.0.1" : options.host.includes(":") && !options.host.startsWith("[") ? `[${options.host}]` : options.host;
    return `http://${host}:${port}${options.path}`;
  }

  listen(): Promise<McpListening> {
    if (!this.kernel || !this.options || !this.logger) {
      return Promise.reject(
        new TmuxClaudeError(ErrorCodes.KERNEL_STATE, `Plugin "${PLUGIN_NAME}" is not applied yet: start the kernel with mcp() in its plugins, then call listen().`, {
          plugin: PLUGIN_NAME,
        }),
      );
    }
    this.listenAsked = true;
    if (!this.listening) {
      const ctx = this.ctx!;
      const logger = this.logger;
      const record = (instanceId: string | null, what: "initializedAt" | "toolsListedAt") => {
        const at = Date.now();
        if (!instanceId) return;
        const writing = ctx
          .state(instanceId)
          .update((state) => stamp(state, what, at))
          .catch((error: unknown) => logger.warn({ err: error, instance: instanceId }, `could not record ${what} of an MCP session`))
          .finally(() => this.stamping.delete(writing));
        this.stamping.add(writing);
      };
      const http = new HttpEndpoint({
        kernel: this.kernel, host: this.options.host, port: this.port, path: this.options.path, logger,
        // The stamps a spawn waits for (see awaitSession), in whichever process it runs.
        onSessionInitialized: (caller) => record(caller.instanceId, "initializedAt"),
        onToolsListed: (caller) => record(caller.instanceId, "toolsListedAt"),
      });
      this.http = http;
      const host = this.options.host;
      this.listening = http.listen().then(
        (address) => {
          const listening = { url: this.url, host, port: address.port };
          logger.info(listening, "MCP endpoint listening");
          return listening;
        },
        (error: unknown) => {
          this.http = undefined;
          this.listening = undefined;
          throw error;
        },
      );
    }
    return this.listening;
  }

  async close(): Promise<void> {
    const http = this.http;
    this.http = undefined;
    this.listening = undefined;
    await http?.close();
    await Promise.allSettled([...this.stamping]);
  }
}
