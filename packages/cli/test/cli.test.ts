import { existsSync } from "node:fs";
import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CORE_DIR, createEnv, parseJson, type TestEnv } from "./helpers.js";

let env: TestEnv;
beforeAll(async () => {
  env = await createEnv();
});
afterAll(async () => {
  await env?.close();
});

const COMMANDS = ["init", "serve", "spawn", "send", "read", "list", "progress", "terminate", "restart", "resume", "attach", "doctor", "run", "runs", "replay", "templates", "complete", "audit", "thread"];

describe("help and usage", () => {
  test("--help lists every command and the exit codes", async () => {
    const result = await env.run(["--help"]);
    expect(result.code).toBe(0);
    for (const name of COMMANDS) expect(result.stdout).toMatch(new RegExp(`^  ${name}\\b`, "mu"));
    expect(result.stdout).toContain("Exit codes:");
    expect(result.stdout).toMatch(/^ {2}3 +not found/mu);
    expect(result.stdout).toMatch(/^ {2}130 +interrupted/mu);
  });

  test.each(COMMANDS)("%s --help", async (name) => {
    const result = await env.run([name, "--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Usage: tmux-claude ${name}`);
    expect(result.stdout).toContain("Exit codes:");
  });

  test("help <command> and --version", async () => {
    expect((await env.run(["help", "send"])).stdout).toContain("--when-busy <mode>");
    const version = await env.run(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/u);
  });

  test("an unknown command exits 2 and suggests the closest one", async () => {
    const result = await env.run(["lisst"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown command 'lisst'");
    expect(result.stderr).toContain("list");
  });

  test("no command shows help and exits 2", async () => {
    const result = await env.run([]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Usage: tmux-claude");
  });

  test("usage errors exit 2; with --json they are JSON on stdout", async () => {
    const missing = await env.run(["send"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing required argument 'id'");

    const badChoice = await env.run(["send", "exec-1", "hi", "--when-busy", "later", "--json"]);
    expect(badChoice.code).toBe(2);
    const { error } = parseJson<{ error: { code: string; message: string } }>(badChoice);
    expect(error.code).toBe("TC_INVALID_ARGUMENT");
    expect(error.message).toContain("later");

    const badNumber = await env.run(["read", "exec-1", "--lines", "0"]);
    expect(badNumber.code).toBe(2);
    expect(badNumber.stderr).toContain("--lines");
  });

  test("spawn --node passes the node: one no routing plugin reaches is TC_NODE_UNREACHABLE naming it", async () => {
    const result = await env.run(["spawn", "executive", "--node", "ghost-node", "--json"]);
    const { error } = parseJson<{ error: { code: string; message: string } }>(result);
    expect(error.code).toBe("TC_NODE_UNREACHABLE");
    expect(error.message).toContain('Node "ghost-node" could not be reached to spawn an instance of role "executive"');
    expect((await env.run(["spawn", "--help"])).stdout).toContain("--node <id>");
  });

  test("an invalid --socket exits 2 and names the value", async () => {
    const result = await env.run(["--socket", "no/slashes", "list"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--socket "no/slashes"');
  });
});

test("the committed bin entry says how to build when dist/ is missing (exit 1)", async () => {
  // A copy of the checkout's layout without dist/: what npm links before the first build.
  const root = await mkdtemp(path.join(os.tmpdir(), "tc-cli-unbuilt-"));
  try {
    const bin = path.join(root, "packages", "cli", "bin", "tmux-claude.js");
    await mkdir(path.dirname(bin), { recursive: true });
    await copyFile(fileURLToPath(new URL("../bin/tmux-claude.js", import.meta.url)), bin);
    const result = await promisify(execFile)(process.execPath, [bin, "--help"]).then(
      () => ({ code: 0, stderr: "" }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${path.join(root, "packages", "cli", "dist", "bin.js")} does not exist`);
    expect(result.stderr).toContain(`cd ${root} && npm run build`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

describe("config errors", () => {
  test("an invalid config file exits 2 and names the file and the key", async () => {
    const file = path.join(env.dir, "bad.config.mjs");
    await writeFile(file, `export default { tmux: { socket: ${JSON.stringify(env.socket)} }, limits: { maxDepth: 0 } };\n`);
    const result = await env.run(["--config", file, "list"], { config: false });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(file);
    expect(result.stderr).toContain("limits.maxDepth");

    const json = await env.run(["--config", file, "list", "--json"], { config: false });
    expect(json.code).toBe(2);
    const { error } = parseJson<{ error: { code: string; filepath: string; issues: { path: string }[] } }>(json);
    expect(error.code).toBe("TC_CONFIG_INVALID");
    expect(error.filepath).toBe(file);
    expect(error.issues.map((issue) => issue.path)).toContain("limits.maxDepth");
  });

  test("a missing --config file exits 2", async () => {
    const result = await env.run(["--config", "nope.config.mjs", "list"], { config: false });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("nope.config.mjs");
  });
});

describe("init and doctor", () => {
  let project: string;
  beforeAll(async () => {
    // A project with @tmux-claude/core installed, as the template imports it.
    project = await mkdtemp(path.join(os.tmpdir(), "tc-cli-init-"));
    await mkdir(path.join(project, "node_modules", "@tmux-claude"), { recursive: true });
    await symlink(CORE_DIR, path.join(project, "node_modules", "@tmux-claude", "core"), "dir");
  });
  afterAll(async () => {
    await rm(project, { recursive: true, force: true });
  });

  test("init writes tmuxclaude.config.ts, refuses to overwrite it, and doctor validates it", async () => {
    const options = { cwd: project, config: false, env: { XDG_STATE_HOME: path.join(project, "state") } };
    const first = await env.run(["init"], options);
    expect(first.code).toBe(0);
    const file = path.join(project, "tmuxclaude.config.ts");
    expect(first.stdout).toContain(file);
    const written = await readFile(file, "utf8");
    expect(written).toContain("defineConfig");

    await writeFile(file, `${written}\n// edited\n`);
    const again = await env.run(["init"], options);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("already exists");
    expect(again.stderr).toContain("--force");
    expect(await readFile(file, "utf8")).toContain("// edited");

    const forced = await env.run(["init", "--force"], options);
    expect(forced.code).toBe(0);
    expect(await readFile(file, "utf8")).toBe(written);

    // --socket keeps doctor away from the default server; it never starts one anyway.
    const doctor = await env.run(["--socket", env.socket, "doctor", "--json"], options);
    const report = parseJson<{ ok: boolean; checks: { name: string; ok: boolean; detail: string }[] }>(doctor);
    const config = report.checks.find((check) => check.name === "config");
    expect(config).toEqual({ name: "config", ok: true, detail: `${file} is valid` });
    // A passing check has nothing to fix (a caveat is a note).
    for (const check of report.checks) if (check.ok) expect(check).not.toHaveProperty("fix");
    expect(doctor.code).toBe(report.ok ? 0 : 1);
    const text = await env.run(["--socket", env.socket, "doctor"], options);
    expect(text.stdout).toMatch(/^ok +config +.*tmuxclaude\.config\.ts is valid$/mu);
  });

  test("the template's git plugin lines, uncommented, load in a project that has not installed the plugin", async () => {
    const options = { cwd: project, config: false, env: { XDG_STATE_HOME: path.join(project, "state") } };
    expect((await env.run(["init", "--force"], options)).code).toBe(0);
    const file = path.join(project, "tmuxclaude.config.ts");
    const template = await readFile(file, "utf8");
    const enabled = template.replace('// import { git } from "@tmux-claude/plugin-git";', 'import { git } from "@tmux-claude/plugin-git";').replace("// git({ autoCommit: true }),", "git({ autoCommit: true }),");
    expect(enabled).not.toBe(template);
    await writeFile(file, enabled);
    expect(existsSync(path.join(project, "node_modules", "@tmux-claude", "plugin-git"))).toBe(false);
    const doctor = await env.run(["--socket", env.socket, "doctor", "--json"], options);
    const report = parseJson<{ checks: { name: string; ok: boolean; detail: string }[] }>(doctor);
    expect(report.checks.find((check) => check.name === "config")).toEqual({ name: "config", ok: true, detail: `${file} is valid` });
    // The plugin is really there: its command is offered.
    const help = await env.run(["--socket", env.socket, "git", "--help"], options);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain("merge");
  });
});

test("doctor --json: every check with name, ok and detail; a bad agent command fails with a fix", async () => {
  const result = await env.run(["doctor", "--json"]);
  const report = parseJson<{ ok: boolean; checks: { name: string; ok: boolean; detail: string; fix?: string }[] }>(result);
  expect(result.code).toBe(0);
  expect(report.ok).toBe(true);
  expect(report.checks.map((check) => check.name)).toEqual(["config", "tmux", "socket", "leftovers", "state dir", "agent echo", "default agent", "serve", "breakers"]);
  // No server runs: doctor reads the breakers from the store all the same.
  expect(report.checks.find((c) => c.name === "breakers")?.detail).toBe("no open circuit breaker");
  for (const check of report.checks) {
    expect(typeof check.ok).toBe("boolean");
    expect(typeof check.detail).toBe("string");
  }
  expect(report.checks.find((c) => c.name === "tmux")?.detail).toMatch(/^tmux \d/u);
  expect(report.checks.find((c) => c.name === "socket")?.detail).toContain(env.socket);
  expect(report.checks.find((c) => c.name === "serve")?.detail).toContain("not running");

  // doctor must not have started a server on the socket.
  const after = await env.run(["doctor", "--json"]);
  expect(parseJson<{ checks: { name: string; detail: string }[] }>(after).checks.find((c) => c.name === "socket")?.detail).toContain("no server running");

  const file = path.join(env.dir, "missing-agent.config.mjs");
  await writeFile(
    file,
    `export default ${JSON.stringify({ tmux: { socket: env.socket }, stateDir: env.stateDir, defaultAgent: "ghost", agents: { nope: { command: "tc-no-such-program" } } })};\n`,
  );
  const failing = await env.run(["--config", file, "doctor", "--json"], { config: false });
  expect(failing.code).toBe(1);
  const failed = parseJson<{ ok: boolean; checks: { name: string; ok: boolean; fix?: string }[] }>(failing);
  expect(failed.ok).toBe(false);
  expect(failed.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(["agent nope", "default agent"]);
  expect(failed.checks.find((c) => c.name === "agent nope")?.fix).toContain("agents.nope.command");
});
