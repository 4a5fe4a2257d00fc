// `tmux-claude monitor`: the dashboard's front door. Prints the login URL of
// the dashboard that a running serve already has (like `jupyter server list`),
// or runs serve with the dashboard added and prints its URL once listening.
import { InvalidArgumentError, type Command } from "commander";
import { ErrorCodes, TmuxClaudeError, type Kernel, type ResolvedConfig } from "@tmux-claude/core";
import {
  dashboard,
  isLoopbackHost,
  openBrowser,
  PLUGIN_NAME as DASHBOARD_PLUGIN,
  readDashboardInfo,
  type DashboardApi,
  type DashboardUserOptions,
} from "@tmux-claude/plugin-dashboard";
import { stateDirOf, type ActionFactory, type Cli } from "../context.js";
import { runServe, serveStatus } from "./serve.js";

interface MonitorFlags {
  port?: number;
  host?: string;
  allowRemote?: boolean;
  open?: boolean;
  json?: boolean;
}

export function registerMonitor(program: Command, action: ActionFactory): void {
  program
    .command("monitor")
    .description("Open the dashboard: print the login URL of the running serve's dashboard, or run serve with the dashboard and print it.")
    .option("--port <port>", "port to listen on (default 3001, or the config's dashboard({ port }); 0 = any free port)", portNumber)
    .option("--host <host>", "interface to listen on (default 127.0.0.1); anything but loopback needs --allow-remote")
    .option("--allow-remote", "allow a --host other than loopback: anyone who reaches it and has the URL's secret controls your agents")
    .option("--open", "open the URL in the browser (xdg-open / open)")
    .option("--json", "print { url, port, host, tokenFile } (the URL without its secret) instead of the login URL")
    .addHelpText(
      "after",
      [
        "",
        "The URL carries a secret made at each start (like Jupyter's); the page exchanges it for a session",
        "cookie. Run monitor again to print it while the server runs; the secret is also in the tokenFile",
        "(<stateDir>/dashboard.token, readable only by you). Without a running serve, monitor serves in the",
        "foreground until Ctrl-C, with the config's plugins and the dashboard.",
      ].join("\n"),
    )
    .action(action(monitor));
}

function portNumber(value: string): number {
  const port = Number(value);
  if (!/^\d+$/u.test(value) || port > 65_535) throw new InvalidArgumentError(`expected a port from 0 to 65535 (0 = any free port), got "${value}".`);
  return port;
}

async function monitor(cli: Cli, flags: MonitorFlags): Promise<number> {
  const loaded = await cli.loadConfig("monitor");
  const stateDir = stateDirOf(loaded.config);
  const running = await readDashboardInfo(stateDir);
  if (running) {
    if ((flags.port !== undefined && flags.port !== 0 && flags.port !== running.port) || (flags.host !== undefined && flags.host !== running.host)) {
      cli.err(`Note: a dashboard already runs for this state dir on ${running.host}:${running.port} (pid ${running.pid}); --port/--host apply when monitor starts one. Stop it first to move it.`);
    }
    await announce(cli, flags, stateDir, { url: running.url, port: running.port, host: running.host, tokenFile: running.tokenFile }, `${running.url}/?token=${running.secret}`);
    return 0;
  }
  const serve = await serveStatus(stateDir);
  if (serve.running) {
    throw new TmuxClaudeError(
      ErrorCodes.SERVE_RUNNING,
      `tmux-claude serve is running for state dir ${stateDir} (pid ${serve.pid}) without the dashboard, and one serve per state dir delivers everything. Add dashboard() to the config's plugins and restart serve, or stop it (kill ${serve.pid}) and run monitor again.`,
      { pid: serve.pid },
    );
  }
  const config = withDashboard(loaded.config, flags);
  return runServe(cli, { config, filepath: loaded.filepath }, {
    async started(kernel: Kernel) {
      const api = kernel.plugin<DashboardApi>(DASHBOARD_PLUGIN)!;
      const address = await api.listening();
      if (!isLoopbackHost(address.host)) cli.err(`Warning: the dashboard listens on ${address.host}, not loopback: anyone who reaches it and has the URL's secret controls your agents.`);
      await announce(cli, flags, stateDir, address, api.url()!);
    },
  });
}

/** The config's plugins with the dashboard: the config's own (its options overridden by the flags), or a new one. */
function withDashboard(config: ResolvedConfig, flags: MonitorFlags): ResolvedConfig {
  const overrides: DashboardUserOptions = {
    ...(flags.port !== undefined ? { port: flags.port } : {}),
    ...(flags.host !== undefined ? { host: flags.host } : {}),
    ...(flags.allowRemote ? { allowRemote: true } : {}),
  };
  const index = config.plugins.findIndex((plugin) => plugin.name === DASHBOARD_PLUGIN);
  if (index === -1) return { ...config, plugins: [...config.plugins, dashboard(overrides)] };
  const existing = (config.plugins[index]!.api as DashboardApi).options;
  // monitor opens the browser itself (also when it only finds a running one).
  const plugins = config.plugins.with(index, dashboard({ ...existing, ...overrides, open: false }));
  return { ...config, plugins };
}

async function announce(cli: Cli, flags: MonitorFlags, stateDir: string, address: { url: string; port: number; host: string; tokenFile: string }, loginUrl: string): Promise<void> {
  if (flags.json) cli.json({ url: address.url, port: address.port, host: address.host, tokenFile: address.tokenFile });
  else cli.out(`Dashboard: ${loginUrl}`);
  if (flags.open) await openBrowser(loginUrl, stateDir, (message) => cli.err(`Warning: ${message}`));
}
