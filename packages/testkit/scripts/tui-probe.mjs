#!/usr/bin/env node
// Launches the interactive Claude Code TUI once in tmux on a private socket,
// with a prepared home and the stand-in model, and prints what the screen
// shows at each step: startup (no onboarding or trust dialog expected), a
// quick turn, a slow turn while busy, and a `--dangerously-skip-permissions`
// start. A probe for adapter work, not a test.
//
//   npm run build -w @tmux-claude/testkit && node packages/testkit/scripts/tui-probe.mjs
import { execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { claudeEnv, findClaudeBinary, match, prepareClaudeHome, StandInModel } from "../dist/index.js";

const SOCKET = "testkit-probe";
const run = promisify(execFile);
const tmux = (...args) => run("tmux", ["-L", SOCKET, ...args]);
const capture = async (target) => (await tmux("capture-pane", "-p", "-t", target)).stdout.replace(/\s+$/gm, "").replace(/\n+$/, "");

/**
 * Resolves when the pane's screen satisfies `test`. Driven by a control-mode
 * client's %output notifications: the screen is captured only after output arrived.
 */
function waitForScreen(control, target, test, label, timeoutMs = 15_000) {
  return new Promise((resolve, reject) => {
    let pending = false;
    let last = "";
    const check = async () => {
      if (pending) return;
      pending = true;
      try {
        last = await capture(target);
        if (test(last)) {
          done();
          resolve(last);
        }
      } finally {
        pending = false;
      }
    };
    const onData = (chunk) => {
      if (chunk.toString().includes("%output")) void check();
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${label}. Screen:\n${last}`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      control.stdout.off("data", onData);
    };
    control.stdout.on("data", onData);
    void check();
  });
}

function show(title, screen) {
  console.log(`\n===== ${title} =====\n${screen}\n${"=".repeat(title.length + 12)}`);
}

const claude = await findClaudeBinary({ install: true });
console.log(`Claude Code ${claude.version} at ${claude.path} (${claude.source})`);
const root = await mkdtemp(join(tmpdir(), "testkit-tui-probe-"));
const workdir = join(root, "work");
await mkdir(workdir);
const model = await StandInModel.start();
const home = await prepareClaudeHome({ dir: join(root, "home"), apiKey: "sk-ant-probe-0123456789abcdefghijklmnopqrstuvwxyz", trustedDirs: [workdir] });
model.rule({ when: match.lastUserTextIncludes("say hi"), reply: { text: "Hi from the stand-in!" } });
model.rule({
  when: match.lastUserTextIncludes("make the file"),
  reply: { text: "Writing it.", toolUse: { name: "Bash", input: { command: "echo hi > out.txt", description: "Write out.txt" } } },
});
model.rule({ when: match.hasToolResult(), reply: { text: "Wrote out.txt." } });
model.rule({ when: match.lastUserTextIncludes("slow"), reply: { text: "That took a while, on purpose.", delayMs: 4_000 } });

// Only the variables Claude needs: the tmux server passes its own environment otherwise.
const envArgs = (extra = {}) =>
  Object.entries(claudeEnv({ home, model, base: {}, ...extra })).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
const controls = [];
try {
  await tmux("-f", "/dev/null", "new-session", "-d", "-s", "probe", "-x", "120", "-y", "40", "-c", workdir, ...envArgs(), claude.path);
  const control = spawn("tmux", ["-L", SOCKET, "-C", "attach", "-t", "probe"], { stdio: ["pipe", "pipe", "inherit"] });
  controls.push(control);
  const started = Date.now();
  const ready = await waitForScreen(control, "probe", (s) => /^❯/m.test(s) || /trust|Choose|Select|Bypass|dialog/i.test(s), "the ❯ prompt");
  show(`startup (${Date.now() - started} ms)`, ready);

  const sent = Date.now();
  await tmux("send-keys", "-t", "probe", "-l", "--", "say hi");
  await tmux("send-keys", "-t", "probe", "Enter");
  await model.waitForRequest(match.all(match.mainTurn, match.lastUserTextIncludes("say hi")), 10_000);
  show(
    `after "say hi" (${Date.now() - sent} ms)`,
    await waitForScreen(control, "probe", (s) => s.includes("Hi from the stand-in!") && /✻ .* for \d+s/.test(s), "the reply"),
  );

  const since = model.requests.length;
  await tmux("send-keys", "-t", "probe", "-l", "--", "now a slow one");
  await tmux("send-keys", "-t", "probe", "Enter");
  await model.waitForRequest(match.lastUserTextIncludes("slow"), 10_000, { since });
  show("busy during the slow turn", await waitForScreen(control, "probe", (s) => /esc to interrupt/i.test(s), "the busy line", 4_000).catch((e) => e.message));
  show("after the slow turn", await waitForScreen(control, "probe", (s) => s.includes("That took a while"), "the slow reply"));

  const toolSince = model.requests.length;
  await tmux("send-keys", "-t", "probe", "-l", "--", "make the file");
  await tmux("send-keys", "-t", "probe", "Enter");
  show(
    "a Bash tool call in the default permission mode",
    await waitForScreen(control, "probe", (s) => s.includes("Wrote out.txt.") || /Do you want|proceed\?|❯ 1\./.test(s), "the tool result or a permission prompt").catch((e) => e.message),
  );
  console.log(`requests for the tool turn: ${model.requests.slice(toolSince).map((r) => `${r.rule}(${r.body.tools?.length ?? 0} tools)`).join(", ")}`);
  await tmux("send-keys", "-t", "probe", "Escape");

  await tmux("-f", "/dev/null", "new-session", "-d", "-s", "bypass", "-x", "120", "-y", "40", "-c", workdir, ...envArgs({ sandbox: true }), claude.path, "--dangerously-skip-permissions");
  const bypassControl = spawn("tmux", ["-L", SOCKET, "-C", "attach", "-t", "bypass"], { stdio: ["pipe", "pipe", "inherit"] });
  controls.push(bypassControl);
  show(
    "--dangerously-skip-permissions with IS_SANDBOX=1",
    await waitForScreen(bypassControl, "bypass", (s) => /^❯/m.test(s) || /Bypass Permissions mode/i.test(s), "the ❯ prompt"),
  );

  console.log("\nRequests the stand-in saw:");
  for (const r of model.requests) {
    console.log(`  #${r.index} ${r.method} ${r.url} kind=${r.kind} rule=${r.rule ?? "-"} model=${r.body.model ?? "-"} stream=${r.body.stream ?? "-"} tools=${r.body.tools?.length ?? 0}`);
  }
} finally {
  // Stop each Claude (pid from tmux) and wait for its session to end, seen as the
  // control client exiting: Claude writes its config on the way out, and that
  // must happen before the temp home is removed.
  const panes = await tmux("list-panes", "-a", "-F", "#{pane_pid}").then((r) => r.stdout.split("\n").filter(Boolean).map(Number), () => []);
  const exited = controls.map((c) => (c.exitCode === null ? new Promise((resolve) => c.once("exit", resolve)) : undefined));
  for (const pid of panes) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {}
  }
  await Promise.race([Promise.all(exited), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
  await tmux("kill-server").catch(() => {});
  await model.close();
  await rm(root, { recursive: true, force: true });
}
