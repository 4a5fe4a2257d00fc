// The real Claude Code binary (offline, against @tmux-claude/testkit's stand-in
// model): kernel.spawn until SessionStart and kernel.send until UserPromptSubmit,
// against Claude Code's own times in a raw tmux session:
//   startup floor: launch the binary with new-session until its ❯ prompt shows
//                  (and, for reference, until its SessionStart hook ran);
//   send floor:    send-keys -l + Enter until its UserPromptSubmit hook ran.
// The floor's hooks are the cheapest command hooks there are (a shell builtin
// appending one word to a file, seen through fs.watch), so the difference to the
// kernel is the kernel's own cost plus its hook script.
import { closeSync, existsSync, mkdirSync, openSync, readSync, watch, writeFileSync } from "node:fs";
import path from "node:path";
import { startFloor, startKernel } from "../lib/setup.mjs";
import { pendingRow, timedRow } from "../lib/rows.mjs";
import { ROOT, killServer, now, tempDir } from "../lib/util.mjs";

const HOOK_SCRIPT = path.join(ROOT, "packages/core/assets/claude-hook.mjs");

const API_KEY = "sk-ant-tmux-claude-bench-0123456789abcdefghijklmnop";
const LEAKY = /^(ANTHROPIC_|CLAUDE_CODE_|CLAUDECODE$|CLAUDE_CONFIG_DIR$|AWS_BEARER_TOKEN_BEDROCK$|VERTEX_|CLOUD_ML_REGION$)/u;
const ADAPTER_PENDING = "the claude adapter (packages/core/src/agents/claude)";

/** Follows a file of one-word lines appended by hooks; resolves waiters when a word arrives. */
class HookLog {
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
          // A shell hook appends one word; the adapter's hook script a JSON line with "event".
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
  const sends = quick ? 3 : 10;
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
  // "script": the claude adapter's own hook script (a node process per event).
  const variants = [];
  const addVariant = (key, command, extraEnv = {}) => {
    const logFile = path.join(dir, `floor-${key}.log`);
    const settingsFile = path.join(dir, `floor-${key}-settings.json`);
    const hook = (name) => [{ hooks: [{ type: "command", command: command(name, logFile), timeout: 10 }] }];
    writeFileSync(settingsFile, JSON.stringify({ hooks: { SessionStart: hook("SessionStart"), UserPromptSubmit: hook("UserPromptSubmit"), Stop: hook("Stop") } }));
    variants.push({ key, settingsFile, hooks: new HookLog(logFile), extraEnv, prompt: [], sessionStart: [], send: [] });
  };
  addVariant("shell", (name, file) => `echo ${name} >> '${file}'`);
  if (existsSync(HOOK_SCRIPT)) {
    addVariant("script", () => `'${process.execPath}' '${HOOK_SCRIPT}'`, { TMUX_CLAUDE_LAUNCH: "bench" });
    const v = variants.at(-1);
    v.extraEnv.TMUX_CLAUDE_EVENTS = v.hooks.file;
  }
  const [shell, script] = variants;

  const spawnK = [], sendK = [];
  let queued = 0;
  const floor = await startFloor("claude");
  let k;
  try {
    k = await startKernel({
      label: "claude",
      agents: { claude: { adapter: "claude", command: bin.path, env } },
      limits: { spawnTimeout: 60_000, sendTimeout: 30_000 },
    });
    const adapter = k.kernel.adapterNames().includes("claude");
    if (!adapter) log("claude: the claude adapter is not in this build; kernel rows pending, floors measured");

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
            note: queued ? `${queued} sends were queued and not timed` : undefined,
          }),
        ]
      : rows(ADAPTER_PENDING, { spawn: summarizeFloor(shell.prompt, spawnFloorLabel), send: summarizeFloor(shell.send, sendFloorLabel) });
    return [...kernelRows, ...referenceRows(shell, script)];
  } finally {
    for (const v of variants) v.hooks.close();
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

/** For reference (no kernel): Claude Code's own SessionStart, and both hooks through the adapter's node hook script. */
function referenceRows(shell, script) {
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
        label: "ref: Claude alone, launch until SessionStart (adapter's node hook)",
        samples: script.sessionStart,
        floor: shell.sessionStart,
        floorLabel: "same, with a shell-builtin hook",
        note: "no kernel: the cost of running the adapter's hook script (a node process) per event",
      }),
      timedRow({
        id: "claude-send-script",
        label: "ref: Claude alone, send until UserPromptSubmit (adapter's node hook)",
        samples: script.send,
        floor: shell.send,
        floorLabel: "same, with a shell-builtin hook",
        note: "no kernel: the hook script's cost on every prompt's receipt",
      }),
    );
  }
  return rows;
}
