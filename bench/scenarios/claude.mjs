// The real Claude Code binary (offline, against @tmux-claude/testkit's stand-in
// model): kernel.spawn until SessionStart and kernel.send until UserPromptSubmit,
// against Claude Code's own times in a raw tmux session:
//   startup floor: launch the binary with new-session until its ❯ prompt shows
//                  (and, for reference, until its SessionStart hook ran);
//   send floor:    send-keys -l + Enter until its UserPromptSubmit hook ran.
// The floor's hooks are the cheapest command hooks there are (a shell builtin
// appending one word to a file, seen through fs.watch), so the difference to the
// kernel is the kernel's own cost plus its hook command.
// For reference, the same binary with other ways a hook can reach a file: the
// adapter's own hook command (POSIX sh), a Node script (what the adapter ran
// before) and an http hook to a loopback server that appends the line (what
// `serve` could offer).
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readSync, watch, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { startFloor, startKernel } from "../lib/setup.mjs";
import { pendingRow, targets, timedRow } from "../lib/rows.mjs";
import { ROOT, killServer, now, tempDir } from "../lib/util.mjs";

/** The claude adapter's hook command, from the agent-claude build. */
const HOOK_MODULE = path.join(ROOT, "packages/agent-claude/dist/hook.js");
/** The adapter's hook before the sh command: one Node process per event, one appendFileSync. */
const NODE_HOOK = `import { appendFileSync, readFileSync } from "node:fs";
const payload = JSON.parse(readFileSync(0, "utf8"));
appendFileSync(process.env.TMUX_CLAUDE_EVENTS, JSON.stringify({ event: payload.hook_event_name, launch: process.env.TMUX_CLAUDE_LAUNCH, payload }) + "\\n");
`;
const HTTP_TOKEN = "bench-hook-token";

/** A loopback endpoint for http hooks: checks the bearer token, appends one line per event to `file`, answers 200 with no body. */
async function startHookEndpoint(file) {
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      if (req.headers.authorization !== `Bearer ${HTTP_TOKEN}`) {
        res.writeHead(401).end();
        return;
      }
      const payload = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      appendFileSync(file, `${JSON.stringify({ event: payload.hook_event_name, launch: "bench", payload })}\n`);
      res.writeHead(200).end();
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${server.address().port}/hook`, close: () => new Promise((resolve) => server.close(resolve)) };
}

export const API_KEY = "sk-ant-tmux-claude-bench-0123456789abcdefghijklmnop";
export const LEAKY = /^(ANTHROPIC_|CLAUDE_CODE_|CLAUDECODE$|CLAUDE_CONFIG_DIR$|AWS_BEARER_TOKEN_BEDROCK$|VERTEX_|CLOUD_ML_REGION$)/u;
const ADAPTER_PENDING = "the claude adapter (packages/agent-claude)";

/** Follows a file of one-word lines appended by hooks; resolves waiters when a word arrives. */
export class HookLog {
  constructor(file) {
    this.file = file;
    writeFileSync(file, "");
    this.offset = 0;
    this.events = []; // { name, at }
    this.waiters = new Set();
    this.watcher = watch(file, () => this.read());
  }
  read() {
    const fd = openSync(this.file, "r");
    try {
      const buf = Buffer.alloc(64 * 1024);
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, this.offset);
        if (n <= 0) break;
        const text = buf.subarray(0, n).toString("utf8");
        const end = text.lastIndexOf("\n");
        if (end === -1) break;
        this.offset += Buffer.byteLength(text.slice(0, end + 1));
        const at = now();
        for (const line of text.slice(0, end).split("\n")) {
          // A shell hook appends one word; the adapter's hook command a JSON line with "event".
          let name = line.trim();
          if (name.startsWith("{")) {
            try {
              name = JSON.parse(name).event;
            } catch {}
          }
          this.events.push({ name, at });
        }
      }
    } finally {
      closeSync(fd);
    }
    for (const w of [...this.waiters]) w();
  }
  /** The time of the first `name` event at index >= from. */
  wait(name, from, timeoutMs = 60_000) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = this.events.slice(from).find((e) => e.name === name);
        if (!hit) return;
        done();
        resolve(hit.at);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${name} hook within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }
  close() {
    this.watcher.close();
  }
}

export async function claude({ quick, log }) {
  const rows = (note, floors = {}) => [
    { ...pendingRow({ id: "claude-spawn", label: "Claude Code: spawn until SessionStart", note }), floor: floors.spawn },
    { ...pendingRow({ id: "claude-send", label: "Claude Code: send until UserPromptSubmit", note }), floor: floors.send },
  ];
  let testkit;
  try {
    testkit = await import("@tmux-claude/testkit");
  } catch (error) {
    return rows(`@tmux-claude/testkit is not built (${error.message.split("\n")[0]})`);
  }
  const { claudeEnv, findClaudeBinary, prepareClaudeHome, StandInModel } = testkit;
  let bin;
  try {
    bin = await findClaudeBinary(); // never installs: the benchmark stays offline
  } catch (error) {
    return rows(`no Claude Code binary (npm ci installs the pinned one): ${error.message.split("\n")[0]}`);
  }

  const spawns = quick ? 2 : 5;
  const sends = quick ? 3 : 20;
  const dir = tempDir("claude");
  const work = path.join(dir, "work");
  mkdirSync(work);
  const model = await StandInModel.start();
  model.rule({ name: "bench", reply: { text: "ok" } });
  const home = await prepareClaudeHome({ dir: path.join(dir, "home"), apiKey: API_KEY, trustedDirs: [work], settings: { skipDangerousModePermissionPrompt: false } });
  const env = claudeEnv({ home, model, base: {} });
  for (const key of Object.keys(process.env)) if (LEAKY.test(key) && !(key in env)) env[key] = "";

  // Floor variants: the same binary and environment in a raw tmux session, with hooks that
  // append to a file we follow. "shell": a shell builtin (the cheapest hook there is);
  // "script": the claude adapter's own hook command (POSIX sh, one dd write per event);
  // "node": a Node script per event (the adapter's hook before); "http": an http hook.
  const variants = [];
  const addVariant = (key, hook, extraEnv = {}) => {
    const logFile = path.join(dir, `floor-${key}.log`);
    const settingsFile = path.join(dir, `floor-${key}-settings.json`);
    const hooks = Object.fromEntries(["SessionStart", "UserPromptSubmit", "Stop"].map((name) => [name, [{ hooks: [{ timeout: 10, ...hook(name, logFile) }] }]]));
    writeFileSync(settingsFile, JSON.stringify({ hooks }));
    const v = { key, settingsFile, hooks: new HookLog(logFile), extraEnv, prompt: [], sessionStart: [], send: [] };
    v.extraEnv = { TMUX_CLAUDE_EVENTS: logFile, TMUX_CLAUDE_LAUNCH: "bench", ...extraEnv };
    variants.push(v);
    return v;
  };
  const quote = (word) => `'${word.replaceAll("'", `'\\''`)}'`;
  const shell = addVariant("shell", (name, file) => ({ type: "command", command: `echo ${name} >> ${quote(file)}` }));
  const { hookCommand } = existsSync(HOOK_MODULE) ? await import(pathToFileURL(HOOK_MODULE).href) : {};
  const script = hookCommand ? addVariant("script", (name) => ({ type: "command", command: hookCommand(name) })) : undefined;
  const nodeHook = path.join(dir, "node-hook.mjs");
  writeFileSync(nodeHook, NODE_HOOK);
  const node = addVariant("node", () => ({ type: "command", command: [process.execPath, nodeHook].map(quote).join(" ") }));
  const endpoint = await startHookEndpoint(path.join(dir, "floor-http.log"));
  // Claude Code skips http hooks for SessionStart ("HTTP hooks are not supported for SessionStart"), so that one stays a command.
  const http = addVariant(
    "http",
    (name, file) =>
      name === "SessionStart"
        ? { type: "command", command: `echo ${name} >> ${quote(file)}` }
        : { type: "http", url: endpoint.url, headers: { Authorization: "Bearer $TMUX_CLAUDE_BENCH_TOKEN" }, allowedEnvVars: ["TMUX_CLAUDE_BENCH_TOKEN"] },
    { TMUX_CLAUDE_BENCH_TOKEN: HTTP_TOKEN },
  );

  const spawnK = [], sendK = [];
  let queued = 0;
  const floor = await startFloor("claude");
  let k;
  try {
    const agentClaude = await import("@tmux-claude/agent-claude").catch(() => undefined);
    k = await startKernel({
      label: "claude",
      plugins: agentClaude ? [agentClaude.claude()] : [],
      agents: { claude: { adapter: agentClaude ? "claude" : "command", command: bin.path, env } },
      limits: { spawnTimeout: 60_000, sendTimeout: 30_000 },
    });
    const adapter = agentClaude !== undefined;
    if (!adapter) log("claude: @tmux-claude/agent-claude is not built; kernel rows pending, floors measured");

    const launchFloor = async (v) => {
      const from = v.hooks.events.length;
      const t0 = now();
      const ss = v.hooks.wait("SessionStart", from);
      const { name, paneId } = await floor.spawnAgent({ env: { ...env, ...v.extraEnv }, program: [bin.path, "--settings", v.settingsFile], ready: /❯/u, timeoutMs: 60_000, cwd: work });
      const tPrompt = now() - t0;
      const tSS = (await ss) - t0;
      return { name, paneId, tPrompt, tSS };
    };
    const sendFloor = async (v, paneId, text) => {
      const from = v.hooks.events.length;
      const submitted = v.hooks.wait("UserPromptSubmit", from);
      const t0 = now();
      await floor.control.commands([
        ["send-keys", "-t", paneId, "-l", "--", text],
        ["send-keys", "-t", paneId, "Enter"],
      ]);
      const t = (await submitted) - t0;
      await v.hooks.wait("Stop", from);
      return t;
    };
    /** Run the steps in a rotating order, so none always runs first on a fresher machine. */
    const rotated = async (i, steps) => {
      const list = steps.filter(Boolean);
      for (let j = 0; j < list.length; j++) await list[(i + j) % list.length]();
    };

    // ---- startup: floor variants and the kernel, interleaved.
    for (let i = 0; i < spawns; i++) {
      await rotated(i, [
        ...variants.map((v) => async () => {
          const { name, paneId, tPrompt, tSS } = await launchFloor(v);
          v.prompt.push(tPrompt);
          v.sessionStart.push(tSS);
          await floor.killSession(name);
          floor.control.forget(paneId);
        }),
        adapter &&
          (async () => {
            const t0 = now();
            const { instance } = await k.kernel.spawn({ role: "specialist", workDir: work, agent: "claude" });
            spawnK.push(now() - t0);
            await k.kernel.terminate(instance.id);
          }),
      ]);
    }
    log(`claude: ${spawns} launches of each variant done`);

    // ---- send: one live session per variant and one instance, messages interleaved.
    const panes = [];
    for (const v of variants) panes.push((await launchFloor(v)).paneId);
    const instance = adapter ? (await k.kernel.spawn({ role: "specialist", workDir: work, agent: "claude" })).instance : undefined;
    for (let i = 0; i < sends; i++) {
      const text = `bench prompt ${i}`;
      await rotated(i, [
        ...variants.map((v, n) => async () => v.send.push(await sendFloor(v, panes[n], text))),
        adapter &&
          (async () => {
            await k.kernel.read(instance.id, { wait: true, timeoutMs: 30_000 });
            const t0 = now();
            const receipt = await k.kernel.send(instance.id, text);
            const t = now() - t0;
            if (receipt.state === "delivered") sendK.push(t);
            else queued++;
            await k.kernel.read(instance.id, { wait: true, timeoutMs: 30_000 });
          }),
      ]);
    }
    log(`claude: ${sends} sends to each done`);

    const spawnFloorLabel = "Claude Code in a raw tmux session until ❯ shows";
    const sendFloorLabel = "send-keys -l + Enter until its UserPromptSubmit hook (shell builtin) ran";
    const kernelRows = adapter
      ? [
          timedRow({
            id: "claude-spawn",
            label: "Claude Code: spawn until SessionStart",
            samples: spawnK,
            floor: shell.prompt,
            floorLabel: spawnFloorLabel,
            note: `Claude Code ${bin.version}; stand-in model on loopback`,
          }),
          timedRow({
            id: "claude-send",
            label: "Claude Code: send until UserPromptSubmit",
            samples: sendK,
            floor: shell.send,
            floorLabel: sendFloorLabel,
            target: targets.floorPlus(10),
            note: queued ? `${queued} sends were queued and not timed` : undefined,
          }),
        ]
      : rows(ADAPTER_PENDING, { spawn: summarizeFloor(shell.prompt, spawnFloorLabel), send: summarizeFloor(shell.send, sendFloorLabel) });
    return [...kernelRows, ...referenceRows(shell, script, node, http)];
  } finally {
    for (const v of variants) v.hooks.close();
    await endpoint.close();
    await floor.close().catch(() => undefined);
    await k?.close().catch(() => undefined);
    if (k) await killServer(k.socket);
    await killServer(floor.socket);
    await model.close().catch(() => undefined);
  }
}

function summarizeFloor(samples, label) {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  return { label, n: samples.length, median, p95: sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)] };
}

/** For reference (no kernel): Claude Code's own SessionStart, and what each kind of hook adds to it and to a prompt's receipt. */
function referenceRows(shell, script, node, http) {
  const floorLabel = "same, with a shell-builtin hook";
  const rows = [
    timedRow({
      id: "claude-sessionstart-floor",
      label: "ref: Claude alone, launch until SessionStart (shell hook)",
      samples: shell.sessionStart,
      floor: shell.prompt,
      floorLabel: "Claude Code in a raw tmux session until ❯ shows",
      note: "no kernel: Claude Code runs SessionStart before it draws ❯",
    }),
  ];
  if (script) {
    rows.push(
      timedRow({
        id: "claude-sessionstart-script",
        label: "ref: Claude alone, launch until SessionStart (adapter's sh hook)",
        samples: script.sessionStart,
        floor: shell.sessionStart,
        floorLabel,
        note: "no kernel: the cost of the adapter's hook command (sh running tr and dd) per event",
      }),
      timedRow({
        id: "claude-send-script",
        label: "ref: Claude alone, send until UserPromptSubmit (adapter's sh hook)",
        samples: script.send,
        floor: shell.send,
        floorLabel,
        note: "no kernel: the hook command's cost on every prompt's receipt",
      }),
    );
  }
  rows.push(
    timedRow({
      id: "claude-send-node",
      label: "ref: Claude alone, send until UserPromptSubmit (a Node hook)",
      samples: node.send,
      floor: shell.send,
      floorLabel,
      note: "no kernel: a Node process per event, as the adapter's hook was before",
    }),
    timedRow({
      id: "claude-send-http",
      label: "ref: Claude alone, send until UserPromptSubmit (http hook, loopback)",
      samples: http.send,
      floor: shell.send,
      floorLabel,
      note: "no kernel: Claude Code POSTs the event to a loopback server that appends the line",
    }),
  );
  return rows;
}
