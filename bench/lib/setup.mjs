// Kernels and floor tmux servers, each on its own private socket.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { Control } from "./control.mjs";
import { ECHO_AGENT, HEIGHT, HISTORY, NODE, WIDTH, newSocket, tempDir, trackCloser } from "./util.mjs";

import { loadCore } from "./core.mjs";
export { loadCore };

/**
 * A kernel on a private socket (`-f /dev/null`) whose default agent is the
 * echo agent. `plugins`, `limits` and extra `agents` may be added.
 */
export async function startKernel({ label, watch = "all", plugins = [], limits = {}, agents = {}, dir, logLevel = "error" } = {}) {
  const { Kernel, configSchema, createLogger } = await loadCore();
  dir ??= tempDir(label);
  const socket = newSocket(label);
  const workDir = path.join(dir, "work");
  const stateDir = path.join(dir, "state");
  const log = path.join(dir, "received.jsonl");
  mkdirSync(workDir, { recursive: true });
  const userConfig = {
    tmux: { socket, configFile: "none", width: WIDTH, height: HEIGHT, historyLimit: HISTORY },
    stateDir,
    defaultAgent: "echo",
    logLevel,
    limits,
    agents: {
      echo: { adapter: "command", command: NODE, args: [ECHO_AGENT], env: { ECHO_AGENT_LOG: log } },
      ...agents,
    },
    plugins,
  };
  const config = configSchema.parse(userConfig);
  const kernel = await Kernel.start({ config, watch, logger: createLogger(logLevel) });
  const untrack = trackCloser(() => kernel.close());
  return {
    kernel,
    socket,
    dir,
    workDir,
    stateDir,
    log,
    userConfig,
    async close() {
      untrack();
      await kernel.close();
    },
  };
}

/** The environment a kernel gives its agent, rebuilt for the floor: the same variables, the same launcher. */
export function agentArgv(extraEnv, program = [NODE, ECHO_AGENT]) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || ["TMUX", "TMUX_PANE", "TERM", "COLUMNS", "LINES"].includes(k)) continue;
    env[k] = v;
  }
  Object.assign(env, { TERM: "tmux-256color" }, extraEnv);
  return ["/usr/bin/env", "-i", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...program];
}

/**
 * A floor tmux server: its own socket, `-f /dev/null`, one control client
 * attached to a base session that runs `cat`. Same history-limit and pane size
 * as the kernel's instances.
 */
export async function startFloor(label) {
  const socket = newSocket(`${label}-floor`);
  const control = new Control({
    socket,
    attach: ["new-session", "-s", "base", "-x", String(WIDTH), "-y", String(HEIGHT), "--", "cat"],
  });
  await control.ready;
  await control.commands([
    ["set-option", "-g", "history-limit", String(HISTORY)],
    // Killing the session the client looks at switches it to another one instead of detaching it.
    ["set-option", "-g", "detach-on-destroy", "off"],
    // (A global `window-size manual` crashes tmux 3.3a on the next new-session from a control client.)
    ["set-option", "-g", "default-size", `${WIDTH}x${HEIGHT}`],
  ]);
  const untrack = trackCloser(() => control.close());
  let n = 0;
  return {
    socket,
    control,
    /**
     * The floor of a spawn: one `new-session` (without -d, so this control
     * client switches to it and receives its %output from the first byte) of
     * the same agent, then wait for its prompt.
     */
    async spawnAgent({ env, program, ready = /\n> $/u, timeoutMs = 30_000, cwd }) {
      const name = `f${++n}`;
      const [paneId] = await control.command(
        "new-session", "-s", name, "-x", String(WIDTH), "-y", String(HEIGHT), ...(cwd ? ["-c", cwd] : []),
        "-P", "-F", "#{pane_id}", "--", ...agentArgv(env, program),
      );
      await control.waitOutput(paneId, (text) => ready.test(text), { timeoutMs });
      return { name, paneId };
    },
    /** A window in the base session (output streams to this client whatever session it looks at last). */
    async newWindowAgent({ env, program }) {
      const [, [paneId]] = await control.commands([
        ["switch-client", "-t", "=base"],
        ["new-window", "-d", "-t", "base:", "-P", "-F", "#{pane_id}", "--", ...agentArgv(env, program)],
      ]);
      return paneId;
    },
    async killSession(name) {
      await control.command("kill-session", "-t", `=${name}`);
    },
    async close() {
      untrack();
      await control.close();
    },
  };
}
