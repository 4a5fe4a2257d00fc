// Kernels and floor tmux servers, each on its own private socket.
import { fork } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Control } from "./control.mjs";
import { ECHO_AGENT, HEIGHT, HISTORY, NODE, WIDTH, newSocket, tempDir, trackChild, trackCloser } from "./util.mjs";

import { loadCore } from "./core.mjs";
export { loadCore };

/**
 * The user config of a bench kernel: a private socket (`-f /dev/null`), the
 * echo agent as its default agent, the bench's pane size. `node` sets
 * `node.id` (kernels of one Redis, each a node of its own); `plugins`,
 * `limits`, extra `agents` and warm pools (`pool`) may be added. Also what a kernel in its own
 * process (kernel-child.mjs) is started with.
 */
export function kernelConfig({ label, dir, plugins = [], limits = {}, agents = {}, logLevel = "error", node, pool } = {}) {
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
    ...(node === undefined ? {} : { node: { id: node } }),
    ...(pool === undefined ? {} : { pool }),
  };
  return { socket, dir, workDir, stateDir, log, userConfig };
}

/** A kernel of kernelConfig's config in this process, closed by cleanupAll if the scenario does not. */
export async function startKernel({ watch = "all", logLevel = "error", ...options } = {}) {
  const { Kernel, configSchema, createLogger } = await loadCore();
  const setup = kernelConfig({ logLevel, ...options });
  const config = configSchema.parse(setup.userConfig);
  const kernel = await Kernel.start({ config, watch, logger: createLogger(logLevel) });
  const untrack = trackCloser(() => kernel.close());
  return {
    ...setup,
    kernel,
    async close() {
      untrack();
      await kernel.close();
    },
  };
}

const KERNEL_CHILD = fileURLToPath(new URL("./kernel-child.mjs", import.meta.url));

/**
 * A kernel in its own process (kernel-child.mjs: a serve, `watch: "all"`),
 * driven over IPC: `ask({ op, ... })` resolves with its answer, rejects with
 * its error or after `timeoutMs`. `close()` closes the kernel and waits for
 * the process to exit (SIGKILL after 10 s); cleanupAll kills it if not.
 */
export function forkKernel() {
  const child = trackChild(fork(KERNEL_CHILD, [], { stdio: ["ignore", "inherit", "inherit", "ipc"] }));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  // One request at a time: answers carry no id.
  let line = Promise.resolve();
  const ask = (msg, timeoutMs = 120_000) => {
    const answer = line.then(
      () =>
        new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`kernel child did not answer ${msg.op} within ${timeoutMs} ms`)), timeoutMs);
          child.once("message", (reply) => {
            clearTimeout(timer);
            if (reply.ok) resolve(reply);
            else reject(new Error(reply.error));
          });
          child.send(msg);
        }),
    );
    line = answer.catch(() => undefined);
    return answer;
  };
  return {
    child,
    ask,
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        await ask({ op: "close" }, 30_000).catch(() => undefined);
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
      }
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
