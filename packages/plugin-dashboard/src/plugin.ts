// `dashboard({...})`: the plugin factory. A plain object with closures (like
// git's) because its `api` is handed out before `apply` runs.
import type { Plugin } from "@tmux-claude/core";
import { parseDashboardOptions, type DashboardUserOptions } from "./options.js";

export interface DashboardAddress {
  host: string;
  port: number;
  /** The page's origin, without the secret: `http://127.0.0.1:3001`. */
  url: string;
}

/** What other plugins, tests and `tmux-claude monitor` get through `ctx.plugin("dashboard")`. */
export interface DashboardApi {
  /** The login URL, with the secret (`http://127.0.0.1:3001/?token=...`); undefined until listening. Never log it. */
  url(): string | undefined;
  /** Where it listens, without the secret; undefined until listening. */
  address(): DashboardAddress | undefined;
  /** Resolves once listening (serve mode), with the address. */
  listening(): Promise<DashboardAddress>;
}

export function dashboard(userOptions: DashboardUserOptions = {}): Plugin<DashboardApi> {
  const options = parseDashboardOptions(userOptions);
  void options;
  const api: DashboardApi = {
    url: () => undefined,
    address: () => undefined,
    listening: () => new Promise(() => {}),
  };
  return {
    name: "dashboard",
    kernel: "^0.1.0",
    api,
    apply() {},
  };
}
