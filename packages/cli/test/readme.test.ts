// The README's "Use it from your own repository" and "Quick start" blocks, run as written:
// the lines are parsed from README.md, never retyped here, so the README cannot drift from
// what works. The PATH step links the checkout into a throwaway npm prefix (nothing global
// changes); the quick start then runs in a fresh git repository that has no node_modules,
// as in a user's own project. The install block (git clone, npm ci) is what .ci/run does.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, expect, test } from "vitest";
import { ECHO_AGENT, eventually, DELIVERED } from "./helpers.js";
import { testSocket } from "@tmux-claude/testkit";

const execFileAsync = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

/** The lines of the first ```sh block under `heading` (before the next heading). */
function readmeBlock(readme: string, heading: string): string[] {
  const lines = readme.split("\n");
  const start = lines.indexOf(heading);
  if (start === -1) throw new Error(`README.md has no heading "${heading}"`);
  let i = start + 1;
  while (i < lines.length && !lines[i]!.startsWith("```")) {
    if (/^#{1,6} /u.test(lines[i]!)) throw new Error(`README.md: no code block under "${heading}" before "${lines[i]}"`);
    i++;
  }
  const end = lines.indexOf("```", i + 1);
  if (i === lines.length || end === -1) throw new Error(`README.md: no closed code block under "${heading}"`);
  return lines.slice(i + 1, end).filter((line) => line.trim() !== "");
}

/** A README command line as argv: words, "double" and 'single' quotes, a trailing # comment; nothing a shell would expand. */
function parseCommandLine(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === " " || c === "\t") {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === "#" && word === undefined) {
      break;
    } else if (c === '"' || c === "'") {
      const close = line.indexOf(c, i + 1);
      if (close === -1) throw new Error(`unclosed ${c} in README line: ${line}`);
      const quoted = line.slice(i + 1, close);
      if (c === '"' && /[$`\\]/u.test(quoted)) throw new Error(`README line expands inside double quotes, which this test does not do: ${line}`);
      word = (word ?? "") + quoted;
      i = close;
    } else if ("$`\\|&;<>(){}*?~".includes(c)) {
      throw new Error(`README line uses shell syntax (${c}) that this test does not interpret; keep quick-start lines to words and quotes: ${line}`);
    } else {
      word = (word ?? "") + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

test("the README's line parser keeps quotes whole, drops comments and refuses shell syntax", () => {
  expect(parseCommandLine('npx tmux-claude send exec-1 "Also cover it"   # a comment')).toEqual(["npx", "tmux-claude", "send", "exec-1", "Also cover it"]);
  expect(parseCommandLine("a 'b  c'd")).toEqual(["a", "b  cd"]);
  expect(() => parseCommandLine("cd x && make")).toThrow("shell syntax (&)");
  expect(() => parseCommandLine('echo "$HOME"')).toThrow("double quotes");
});

const dirs: string[] = [];
const socket = testSocket("readme");
const tmux = (...args: string[]) => execFileAsync("tmux", ["-L", socket, ...args]);

afterAll(async () => {
  await tmux("kill-server").catch(() => undefined);
  // kill-server leaves the socket file behind.
  await rm(path.join(process.env.TMUX_TMPDIR ?? "/tmp", `tmux-${process.getuid?.() ?? 0}`, socket), { force: true });
  // fs.rm removes the prefix's link to the checkout, never what it points to.
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/**
 * The environment of a user's shell: npm's own variables from the test runner removed (they
 * would point npx at this checkout), no PATH entry that already has a tmux-claude, a private
 * npm prefix (the "global" install) and state dir, and npm kept off the network.
 */
function userEnv(prefix: string, stateHome: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm_|INIT_CWD$)/iu.test(key)) env[key] = value;
  }
  const paths = (process.env.PATH ?? "").split(path.delimiter).filter((dir) => dir !== "" && !existsSync(path.join(dir, "tmux-claude")));
  return {
    ...env,
    PATH: [path.join(prefix, "bin"), ...paths].join(path.delimiter),
    npm_config_prefix: prefix,
    npm_config_offline: "true",
    npm_config_audit: "false",
    npm_config_fund: "false",
    npm_config_update_notifier: "false",
    XDG_STATE_HOME: stateHome,
  };
}

interface Ran {
  line: string;
  code: number;
  stdout: string;
  stderr: string;
}

let serving: ChildProcess | undefined;
afterAll(() => {
  if (serving?.pid) process.kill(-serving.pid, "SIGKILL");
});

/** `serve` runs in "a second terminal": start it in the background and go on once it serves. */
async function startServe(argv: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Omit<Ran, "line">> {
  // Its own process group: a terminal's Ctrl-C reaches npx and the serve under it alike.
  const child = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  serving = child;
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  await eventually(() => stderr.includes('"msg":"serving"') || child.exitCode !== null, 30_000, "serve to start");
  return { code: child.exitCode ?? 0, stdout: "", stderr };
}

async function run(argv: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Omit<Ran, "line">> {
  try {
    const { stdout, stderr } = await execFileAsync(argv[0]!, argv.slice(1), { cwd, env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number | string; stdout?: string; stderr?: string; message: string };
    return { code: typeof failed.code === "number" ? failed.code : -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? failed.message };
  }
}

/** Replace `from` that must occur exactly once, so a changed template fails here loudly. */
function replaceOnce(text: string, from: string, to: string): string {
  const at = text.indexOf(from);
  if (at === -1 || text.indexOf(from, at + 1) !== -1) throw new Error(`the config init writes no longer has exactly one ${JSON.stringify(from)}; update this test's edit`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

/**
 * `attach` needs a terminal: run the line in a tmux pane, wait for its client, detach with the
 * default prefix and d (as the README says), and return the pane's screen and the exit code.
 */
async function attachInPane(argv: string[], cwd: string, env: NodeJS.ProcessEnv, session: string, codeFile: string): Promise<Omit<Ran, "line">> {
  // A tiny node wrapper records the exit code and keeps the pane open for capture-pane.
  const wrapper =
    'const r = require("node:child_process").spawnSync(process.argv[2], process.argv.slice(3), { stdio: "inherit" }); require("node:fs").writeFileSync(process.argv[1], String(r.status)); setInterval(() => {}, 60000)'; // no trailing ";": tmux would take it for a command separator
  const pass = ["PATH", "npm_config_prefix", "npm_config_offline", "npm_config_update_notifier", "XDG_STATE_HOME"].flatMap((key) => ["-e", `${key}=${env[key]}`]);
  await tmux("new-session", "-d", "-s", "readme-attach", "-x", "120", "-y", "40", "-c", cwd, ...pass, "--", process.execPath, "-e", wrapper, codeFile, ...argv);
  await eventually(async () => (await tmux("list-clients", "-F", "#{session_name}").catch(() => ({ stdout: "" }))).stdout.split("\n").includes(session), 30_000, `a client attached to ${session}`);
  await tmux("send-keys", "-t", "=readme-attach:", "C-b", "d");
  const code = await eventually(() => readFile(codeFile, "utf8").catch(() => ""), 30_000, "attach to exit");
  const stdout = (await tmux("capture-pane", "-p", "-J", "-S", "-200", "-t", "=readme-attach:")).stdout;
  await tmux("kill-session", "-t", "=readme-attach");
  return { code: Number(code), stdout, stderr: "" };
}

test("the README's PATH step and quick start work as written in a fresh repository", { timeout: 240_000 }, async () => {
  const readme = await readFile(path.join(ROOT, "README.md"), "utf8");
  const pathStep = readmeBlock(readme, "### Use it from your own repository");
  const quickStart = readmeBlock(readme, "## Quick start");
  const tmp = async (name: string) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), `tc-readme-${name}-`));
    dirs.push(dir);
    return dir;
  };
  const [prefix, stateHome, project, scratch] = [await tmp("prefix"), await tmp("state"), await tmp("project"), await tmp("scratch")];
  const env = userEnv(prefix, stateHome);
  await execFileAsync("git", ["init", "-q", project]);
  const log = path.join(scratch, "received.jsonl");
  const ran: Ran[] = [];
  // What the agent should receive: the spawn's prompt and the send's text (each line's last word).
  const sayings = quickStart.map(parseCommandLine).filter((argv) => argv[2] === "spawn" || argv[2] === "send").map((argv) => argv.at(-1)!);

  for (const line of pathStep) {
    const result = await run(parseCommandLine(line), ROOT, env);
    ran.push({ line, ...result });
    expect(result.code, `${line}\n${result.stderr}`).toBe(0);
  }
  // On PATH now, outside the checkout.
  const version = await run(["tmux-claude", "--version"], project, env);
  expect(version, JSON.stringify(version)).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+\n$/u) });

  for (const line of quickStart) {
    const argv = parseCommandLine(line);
    expect(argv.slice(0, 2), line).toEqual(["npx", "tmux-claude"]);
    const [command, ...args] = argv.slice(2);
    if (process.env.TC_README_TRACE) console.error(`[readme] ${new Date().toISOString()} ${line}`);
    const result =
      command === "serve"
        ? await startServe(argv, project, env)
        : command === "attach"
          ? await attachInPane(argv, project, env, args[0]!, path.join(scratch, "attach-exit-code"))
          : await run(argv, project, env);
    ran.push({ line, ...result });
    const context = `${line}\nexit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
    expect(result.code, context).toBe(0);

    switch (command) {
      case "init": {
        // The edit a user makes before going on: here a private test socket and a fast fake agent.
        const file = path.join(project, "tmuxclaude.config.ts");
        let config = await readFile(file, "utf8");
        config = replaceOnce(config, 'socket: "tmux-claude",', `socket: ${JSON.stringify(socket)},`);
        config = replaceOnce(config, '// configFile: "none",', 'configFile: "none",'); // the default prefix, C-b, whatever ~/.tmux.conf says
        config = replaceOnce(config, 'defaultAgent: "claude",', 'defaultAgent: "echo",');
        const echo = { adapter: "command", command: process.execPath, args: [ECHO_AGENT], env: { ECHO_AGENT_LOG: log } };
        config = replaceOnce(config, "  agents: {\n", `  agents: {\n    echo: ${JSON.stringify(echo)},\n`);
        await writeFile(file, config);
        break;
      }
      case "doctor":
        expect(result.stdout, context).toContain(`"${socket}"`);
        expect(result.stdout, context).toMatch(/^ok +agent echo /mu);
        break;
      case "spawn":
        // The later lines name exec-1: the README's ids must be the real ones.
        expect(result.stdout, context).toBe("exec-1\n");
        break;
      case "list":
        expect(result.stdout, context).toMatch(/^exec-1 +executive +idle/mu);
        break;
      case "read":
        expect(result.stdout, context).toMatch(/^exec-1: idle/u);
        expect(result.stdout, context).toContain(`echo: ${sayings[0]!.slice(0, 40)}`);
        break;
      case "send":
        expect(result.stdout, context).toMatch(DELIVERED);
        break;
      case "attach":
        expect(result.stdout, context).toContain(`Attaching to ${args[0]}`);
        expect(result.stdout, context).toContain(`[detached (from session ${args[0]})]`);
        break;
      case "terminate":
        expect(result.stdout, context).toBe(`Terminated ${args[0]}.\n`);
        break;
    }
  }

  // serve (the README's second terminal) ends cleanly on SIGTERM.
  if (serving) {
    const closed = once(serving, "close");
    process.kill(-serving.pid!, "SIGTERM");
    const [code, signal] = (await closed) as [number | null, NodeJS.Signals | null];
    // serve itself exits 0; npx in front of it may die of the signal instead.
    expect(code === 0 || signal === "SIGTERM", `serve ended with ${code ?? signal}`).toBe(true);
    serving = undefined;
    // serve removes its serve.json on the way out: then it is really gone, not just npx.
    const serveFile = path.join(stateHome, "tmux-claude", socket, "serve.json");
    await eventually(() => !existsSync(serveFile), 15_000, "serve (not only npx) to exit and remove serve.json");
  }

  // Every line ran, in order; the agent got the spawn's prompt and the send's text.
  expect(ran.map((r) => r.line)).toEqual([...pathStep, ...quickStart]);
  const texts = (await readFile(log, "utf8")).trim().split("\n").map((l) => (JSON.parse(l) as { text: string }).text);
  expect(texts).toEqual(sayings);
  const left = await run(["npx", "tmux-claude", "list", "--json"], project, env);
  expect(JSON.parse(left.stdout)).toEqual([]);
});
