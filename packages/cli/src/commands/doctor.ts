import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import {
  parseConfig,
  findLeftovers,
  ErrorCodes,
  isTmuxClaudeError,
  listSessionNames,
  MONITOR_PREFIX,
  removeLeftovers,
  resolveCommand,
  tmuxVersion,
  withDefaultAgents,
  type Leftovers,
  type PluginCheck,
  type BreakerState,
  type ResolvedConfig,
} from "@tmux-claude/core";
import { stateDirOf, usageError, withCliPlugins, withSocket, type ActionFactory, type Cli } from "../context.js";
import { table } from "../output.js";
import { serveStatus } from "./serve.js";

const MIN_TMUX: readonly [number, number] = [3, 2];

/** One line of the report; plugins' checks (Plugin.doctor) have the same shape. */
export type Check = PluginCheck;

export function registerDoctor(program: Command, action: ActionFactory): void {
  program
    .command("doctor")
    .description("Check tmux, the config, the state dir, the agents' commands and serve; exits 1 if a check failed.")
    .option("--clean", "remove what dead tmux-claude processes left on the socket (monitor sessions and their control clients); instances keep running")
    .option("--reset-breakers [agent]", "close the circuit breaker of this agent (all agents without a name), forgetting its failures, before the checks")
    .option("--json", "print the checks as JSON: { ok, checks: [{ name, ok, detail, fix?, note? }] }")
    .action(action(doctor));
}

async function doctor(cli: Cli, flags: { json?: boolean; clean?: boolean; resetBreakers?: string | boolean }): Promise<number> {
  if (flags.resetBreakers !== undefined) {
    const agent = typeof flags.resetBreakers === "string" ? flags.resetBreakers : undefined;
    const reset = await cli.withBreakers("doctor", async (breakers) => {
      if (agent !== undefined) await knownAgent(cli, agent, await breakers.list());
      return breakers.reset(agent);
    });
    const what = reset.length ? `Reset the circuit breaker of ${reset.map((name) => `"${name}"`).join(", ")}.` : `No open circuit breaker${agent ? ` for agent "${agent}"` : ""}.`;
    // With --json the checks are the whole output; the reset shows in their breakers line.
    if (!flags.json) cli.out(what);
  }
  const checks = await runChecks(cli, { clean: flags.clean === true });
  const ok = checks.every((check) => check.ok);
  if (flags.json) {
    cli.json({ ok, checks });
  } else {
    const rows = checks.flatMap((check) => {
      const [first = "", ...rest] = check.detail.split("\n");
      return [
        [check.ok ? "ok" : "fail", check.name, first],
        ...rest.map((line) => ["", "", line]),
        ...(check.fix ? [["", "", `fix: ${check.fix}`]] : []),
        ...(check.note ? [["", "", `note: ${check.note}`]] : []),
      ];
    });
    cli.out(table(["", "CHECK", "RESULT"], rows).split("\n").slice(1).join("\n"));
    const failed = checks.filter((check) => !check.ok).length;
    cli.out(ok ? "\nAll checks passed." : `\n${failed} check${failed === 1 ? "" : "s"} failed.`);
  }
  return ok ? 0 : 1;
}

/** A name to reset must be a configured agent (or one whose breaker the store still holds): a typo is no success. */
async function knownAgent(cli: Cli, agent: string, held: BreakerState[]): Promise<void> {
  const { config, filepath } = await cli.loadConfig("doctor");
  const configured = Object.keys(withDefaultAgents(config).agents);
  if (configured.includes(agent) || held.some((b) => b.agent === agent)) return;
  throw usageError(
    `Unknown agent "${agent}" for --reset-breakers. Configured agents: ${configured.join(", ") || "(none)"}. Give one of them, or no name to reset every breaker (agents are defined under agents in ${filepath ?? "your config"}).`,
    { agent, configured },
  );
}

/** Every check, without starting a tmux server or creating anything (`clean` removes leftovers of dead processes). */
export async function runChecks(cli: Cli, options: { clean?: boolean } = {}): Promise<Check[]> {
  const checks: Check[] = [];

  let config: ResolvedConfig;
  let configPath: string | null = null;
  try {
    const loaded = await cli.loadConfig("doctor");
    config = loaded.config;
    configPath = loaded.filepath;
    checks.push(
      configPath
        ? { name: "config", ok: true, detail: `${configPath} is valid` }
        : { name: "config", ok: true, detail: `no config file found from ${cli.io.cwd}; the defaults apply`, fix: "run tmux-claude init to write one" },
    );
  } catch (error) {
    if (!isTmuxClaudeError(error)) throw error;
    checks.push({ name: "config", ok: false, detail: error.message });
    // Check the rest against the defaults; a bad --socket stays the config check's failure.
    config = withCliPlugins(parseConfig({}));
    try {
      config = withSocket(config, cli.globals.socket);
    } catch {
      // reported above
    }
  }
  const configName = configPath ?? "your config";
  // The configured agents, and the default one even when a plugin contributes it (claude): the agents a spawn may use.
  const builtIn = withDefaultAgents(config).agents;
  if (!config.agents[config.defaultAgent] && builtIn[config.defaultAgent]) {
    config = { ...config, agents: { [config.defaultAgent]: builtIn[config.defaultAgent]!, ...config.agents } };
  }

  const tmux = await checkTmux(config.tmux.binary);
  checks.push(tmux.check);
  if (tmux.found) {
    checks.push(await checkSocket(config.tmux.binary, config.tmux.socket));
    checks.push(await checkLeftovers(config.tmux.binary, config.tmux.socket, options.clean === true));
  }

  const stateDir = stateDirOf(config);
  checks.push(await checkStateDir(stateDir));

  for (const [name, agent] of Object.entries(config.agents)) {
    const found = await resolveCommand(agent.command, cli.io.env, cli.io.cwd);
    const adapter = agent.adapter === "command" || agent.adapter === "claude" ? "" : ` (adapter "${agent.adapter}" comes from a plugin)`;
    checks.push(
      found
        ? { name: `agent ${name}`, ok: true, detail: `${agent.command} -> ${found}${adapter}` }
        : {
            name: `agent ${name}`,
            ok: false,
            detail: `command "${agent.command}" was not found${agent.command.includes("/") ? "" : " on PATH"}${adapter}`,
            fix: `install it, or fix agents.${name}.command in ${configName}`,
          },
    );
  }
  const agents = Object.keys(config.agents);
  checks.push(
    config.agents[config.defaultAgent]
      ? { name: "default agent", ok: true, detail: `"${config.defaultAgent}"` }
      : {
          name: "default agent",
          ok: false,
          detail: `defaultAgent "${config.defaultAgent}" is not defined under agents (configured: ${agents.join(", ") || "none"})`,
          fix: `add agents.${config.defaultAgent} to ${configName}, or set defaultAgent to one of the configured agents`,
        },
  );

  const serve = await serveStatus(stateDir);
  checks.push({
    name: "serve",
    ok: true,
    detail: serve.running
      ? `running (pid ${serve.pid})`
      : `not running; queued messages are delivered only while a tmux-claude send waits${config.supervision.stallAfterMs === false ? "" : ", and stalled instances are not detected (the stall watcher runs in serve)"} (start one with tmux-claude serve)`,
  });
  checks.push(await checkBreakers(cli));
  checks.push(...(await pluginChecks(config)));
  return checks;
}

/**
 * The agents' circuit breakers (limits.breaker), read from the configured
 * store alone (Kernel.withBreakers): no tmux server is needed, started or
 * attached to, so they are read whether or not one runs (a broken agent's
 * failed spawns leave none) and leftovers are left for doctor to report.
 */
async function checkBreakers(cli: Cli): Promise<Check> {
  let breakers: BreakerState[];
  try {
    breakers = await cli.withBreakers("doctor", (store) => store.list());
  } catch (error) {
    return { name: "breakers", ok: false, detail: `could not read the circuit breakers: ${(error as Error).message}`, fix: "check the config and the store (the other checks)" };
  }
  const open = breakers.filter((b) => b.state !== "closed");
  const counting = breakers.filter((b) => b.state === "closed" && b.failures.length > 0);
  const lines = [
    ...open.map((b) => `agent "${b.agent}": ${b.state} since ${b.openedAt}${b.state === "open" ? `, trial spawn at ${b.closesAt}` : `, trial spawn began ${b.trialAt}`}; last failure: ${b.failures.at(-1)?.code}: ${b.failures.at(-1)?.message}`),
    ...counting.map((b) => `agent "${b.agent}": closed, ${b.failures.length} recent failed spawn${b.failures.length === 1 ? "" : "s"}`),
  ];
  if (open.length === 0) return { name: "breakers", ok: true, detail: lines.length ? lines.join("\n") : "no open circuit breaker" };
  return {
    name: "breakers",
    ok: false,
    detail: lines.join("\n"),
    fix: `fix the agent (its "agent" line above), then tmux-claude doctor --reset-breakers ${open.length === 1 ? open[0]!.agent : "[agent]"}`,
  };
}

/** What the config's plugins check themselves (the redis plugin: its Redis); a plugin whose checks throw fails its own line. */
async function pluginChecks(config: ResolvedConfig): Promise<Check[]> {
  const lists = await Promise.all(
    config.plugins.map(async (plugin) => {
      if (!plugin.doctor) return [];
      try {
        return [...(await plugin.doctor())];
      } catch (error) {
        return [{ name: plugin.name, ok: false, detail: `its checks failed: ${(error as Error).message}`, fix: `report this to the plugin "${plugin.name}"` }];
      }
    }),
  );
  return lists.flat();
}

async function checkTmux(binary: string): Promise<{ found: boolean; check: Check }> {
  let output: string;
  try {
    output = await tmuxVersion(binary);
  } catch (error) {
    const missing = isTmuxClaudeError(error, ErrorCodes.TMUX_NOT_FOUND);
    return {
      found: false,
      check: {
        name: "tmux",
        ok: false,
        detail: missing ? `"${binary}" was not found on PATH` : `"${binary} -V" failed: ${(error as Error).message}`,
        fix: `install tmux ${MIN_TMUX.join(".")} or newer (apt-get install tmux, brew install tmux), or set tmux.binary in your config`,
      },
    };
  }
  const match = /(\d+)\.(\d+)/u.exec(output);
  const version: [number, number] | undefined = match ? [Number(match[1]), Number(match[2])] : undefined;
  // A build from git ("tmux next-3.5", "tmux master") has no plain number to compare: accept it.
  const recent = !version || version[0] > MIN_TMUX[0] || (version[0] === MIN_TMUX[0] && version[1] >= MIN_TMUX[1]);
  return {
    found: true,
    check: recent
      ? { name: "tmux", ok: true, detail: output, ...knownCrash(version) }
      : { name: "tmux", ok: false, detail: `${output} is too old; tmux-claude needs ${MIN_TMUX.join(".")} or newer`, fix: "install a newer tmux" },
  };
}

/**
 * tmux before 3.4 sends control-mode notifications to a control client that is still
 * identifying itself and segfaults (newer tmux checks for it). tmux-claude serializes
 * its own connects and notifying commands per socket, so it is safe on its own; other
 * control-mode tools (iTerm2's tmux -CC) on the same private socket are not covered.
 */
function knownCrash(version: [number, number] | undefined): { note?: string } {
  if (!version || version[0] > 3 || (version[0] === 3 && version[1] >= 4)) return {};
  return {
    note: "this tmux crashes when control clients connect while others change sessions; tmux-claude serializes its own, but keep other control-mode clients (tmux -CC) off its socket, or install a newer tmux (later releases check for this case)",
  };
}

/** Asks a running server only; never starts one. */
async function checkSocket(binary: string, socket: string): Promise<Check> {
  let names: string[] | undefined;
  try {
    names = await listSessionNames({ binary, socket });
  } catch (error) {
    const reason = isTmuxClaudeError(error) && typeof error.details.tmuxError === "string" ? error.details.tmuxError : (error as Error).message;
    return { name: "socket", ok: false, detail: `"${binary} -L ${socket} list-sessions" failed: ${reason}`, fix: "check that the socket's server is healthy, or kill it with tmux -L <socket> kill-server" };
  }
  if (!names) return { name: "socket", ok: true, detail: `"${socket}": no server running (it starts with the first spawn)` };
  const sessions = names.filter((name) => !name.startsWith(MONITOR_PREFIX));
  return { name: "socket", ok: true, detail: `"${socket}": server running with ${sessions.length} instance session${sessions.length === 1 ? "" : "s"}` };
}

/** Monitor sessions (and their control clients) of tmux-claude processes that are gone, e.g. killed with -9. */
async function checkLeftovers(binary: string, socket: string, clean: boolean): Promise<Check> {
  let leftovers: Leftovers;
  try {
    leftovers = clean ? await removeLeftovers({ binary, socket }) : await findLeftovers({ binary, socket });
  } catch (error) {
    return { name: "leftovers", ok: false, detail: `looking for leftovers on "${socket}" failed: ${(error as Error).message}`, fix: "check that the socket's server is healthy" };
  }
  const { monitors, clients } = leftovers;
  if (monitors.length === 0) return { name: "leftovers", ok: true, detail: `"${socket}": nothing left by dead tmux-claude processes` };
  const lines = monitors.map((session) => {
    const attached = clients.filter((client) => client.session === session).map((client) => client.pid);
    return `${session}${attached.length ? ` (control client pid ${attached.join(", ")})` : ""}`;
  });
  const what = `${monitors.length} monitor session${monitors.length === 1 ? "" : "s"} of dead processes`;
  return clean
    ? { name: "leftovers", ok: true, detail: [`removed ${what}:`, ...lines].join("\n") }
    : {
        name: "leftovers",
        ok: false,
        detail: [`${what} on "${socket}":`, ...lines].join("\n"),
        fix: "run tmux-claude doctor --clean to remove them (instances keep running; the next spawn or send on this socket also removes them)",
      };
}

/** The state dir, or the nearest existing parent it would be created in, must be writable. */
async function checkStateDir(dir: string): Promise<Check> {
  let existing = dir;
  while (!(await stat(existing).catch(() => undefined))) {
    const parent = path.dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  const info = await stat(existing).catch(() => undefined);
  const writable = info?.isDirectory() === true && (await access(existing, constants.W_OK | constants.X_OK).then(() => true, () => false));
  const where = existing === dir ? dir : `${dir} (created on first use in ${existing})`;
  return writable
    ? { name: "state dir", ok: true, detail: `${where} is writable` }
    : {
        name: "state dir",
        ok: false,
        detail: info && !info.isDirectory() ? `${existing} is not a directory` : `${existing} is not writable`,
        fix: "set stateDir in your config to a writable directory, or fix the permissions",
      };
}

