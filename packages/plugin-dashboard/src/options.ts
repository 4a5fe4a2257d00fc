// The options of `dashboard({...})`, checked with zod through core's
// parsePluginOptions so errors name the key, the value and what is allowed.
import { ErrorCodes, TmuxClaudeError, parsePluginOptions } from "@tmux-claude/core";
import { z } from "zod";

export const dashboardOptionsSchema = z
  .object({
    /** TCP port; 0 picks any free port (see `api.url()`). */
    port: z.number().int().min(0).max(65535).default(3001),
    /** Interface to listen on. Anything but loopback needs `allowRemote: true`. */
    host: z.string().min(1).default("127.0.0.1"),
    /** Allow a non-loopback `host`: anyone who can reach it and has the URL's secret controls your agents. */
    allowRemote: z.boolean().default(false),
    /** Open the login URL in the browser once listening (`xdg-open`/`open`; a failure is a warning). */
    open: z.boolean().default(false),
  })
  .strict();

export type DashboardUserOptions = z.input<typeof dashboardOptionsSchema>;
export type DashboardOptions = z.output<typeof dashboardOptionsSchema>;

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host.toLowerCase()) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Hosts that mean "every interface": listened on, never browsed to. */
export const WILDCARD_HOSTS = new Set(["0.0.0.0", "::", "[::]"]);

/** Where this machine reaches a server listening on `host`: loopback for a wildcard. */
export function localTarget(host: string): string {
  if (!WILDCARD_HOSTS.has(host)) return host;
  return host === "0.0.0.0" ? "127.0.0.1" : "::1";
}

/** Parsed options, or one TC_PLUGIN_OPTIONS_INVALID error naming the key and the fix. */
export function parseDashboardOptions(raw: unknown): DashboardOptions {
  const options = parsePluginOptions("dashboard", dashboardOptionsSchema, raw);
  if (!isLoopbackHost(options.host) && !options.allowRemote) {
    throw new TmuxClaudeError(
      ErrorCodes.PLUGIN_OPTIONS_INVALID,
      `Invalid options for plugin "dashboard": host "${options.host}" is not loopback, so anyone who can reach it could try to control your agents. Use host "127.0.0.1" (the default), or pass allowRemote: true (tmux-claude monitor --allow-remote) if you mean it.`,
      { plugin: "dashboard", host: options.host },
    );
  }
  return options;
}
