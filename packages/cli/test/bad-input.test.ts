// Bad configs and bad flags: exit 2 with the key (or flag), the value and the fix;
// never "This is a bug" and never a stack trace.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createEnv, type TestEnv } from "./helpers.js";
import { testSocket } from "@tmux-claude/testkit";

let env: TestEnv;
beforeAll(async () => {
  env = await createEnv();
});
afterAll(async () => {
  await env?.close();
});

const STACK_LINE = /^\s+at .+[:(]/mu;

async function withConfig(name: string, body: string, args: string[] = ["list"]) {
  const file = path.join(env.dir, name);
  await writeFile(file, body);
  const result = await env.run(["--config", file, ...args], { config: false });
  expect(result.stderr).not.toMatch(STACK_LINE);
  expect(result.stderr).not.toContain("This is a bug");
  return { ...result, file };
}

/** A config on a private socket with `extra` added (these fail before tmux is touched). */
function configWith(extra: Record<string, unknown>): string {
  const base = { tmux: { socket: testSocket("bad"), configFile: "none" }, stateDir: path.join(env.dir, "state-bad") };
  return `export default ${JSON.stringify({ ...base, ...extra })};\n`;
}

describe("bad configs exit 2 with the key, the value and the fix", () => {
  test("an invalid regex in an agent's pattern", async () => {
    const r = await withConfig(
      "regex.config.mjs",
      configWith({ agents: { repl: { adapter: "command", command: process.execPath, idlePattern: "(" } } }),
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(r.file);
    expect(r.stderr).toContain("agents.repl.idlePattern: not a valid regular expression (/(/u: Unterminated group)");
    expect(r.stderr).toContain('escape special characters with a backslash (e.g. "\\\\(" for a literal "(")');
    expect(r.stderr).toContain('got "("');
  });

  test.each([
    ["null", "export default null;\n", "expected an object, got null"],
    ["a number", "export default 42;\n", "expected an object, got 42"],
    ["an array", "export default [{}];\n", "expected an object, got [{}]"],
    ["a function returning undefined", "export default () => undefined;\n", "expected an object, got undefined"],
  ])("a config that exports %s", async (_what, body, message) => {
    const r = await withConfig(`export-${_what.replace(/\W+/gu, "-")}.config.mjs`, body);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`(the config itself): ${message}`);
    expect(r.stderr).toContain("export default defineConfig({ ... })");
    expect(r.stderr).not.toContain("Cannot read properties");
  });

  test.each([
    ["stateDir", { stateDir: "" }, "stateDir: expected a non-empty string: a directory (leave the key out for the default"],
    ["tmux.configFile", { tmux: { configFile: "" } }, 'tmux.configFile: expected a non-empty string: a tmux config file, or "none"'],
    ["tmux.binary", { tmux: { binary: "" } }, 'tmux.binary: expected a non-empty string: the tmux program: "tmux" (on PATH) or an absolute path'],
    ["defaultAgent", { defaultAgent: "" }, "defaultAgent: expected a non-empty string: the name of an agent under agents"],
    ["an agent's command", { agents: { repl: { command: "" } } }, "agents.repl.command: expected a non-empty string: the program to run"],
  ])("an empty %s", async (what, extra, message) => {
    const r = await withConfig(`empty-${what.replace(/\W+/gu, "-")}.config.mjs`, `export default ${JSON.stringify(extra)};\n`);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain('got ""');
  });

  test("a role that lists an agent that does not exist", async () => {
    const r = await withConfig(
      "role-agents.config.mjs",
      configWith({ roles: { executive: { prefix: "exec", spawns: [], agents: ["claud"] } } }),
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('roles.executive.agents[0]: "claud" is not a configured agent (agents: claude)');
  });
});

describe("bad flags exit 2", () => {
  test.each([
    ["--workdir", ["spawn", "executive", "--workdir", ""], '--workdir needs a directory, got "". Pass the directory the agent works in'],
    ["--parent", ["spawn", "manager", "--parent", ""], '--parent needs an instance id, got "". Pass the parent\'s id'],
    ["--agent", ["spawn", "executive", "--agent", ""], '--agent needs an agent name, got ""'],
    ["--prompt-file", ["spawn", "executive", "--prompt-file", ""], '--prompt-file needs a file, got ""'],
  ])('%s ""', async (_flag, args, message) => {
    const result = await env.run(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    // Nothing was spawned in the current directory instead.
    expect((await env.run(["list", "--json"])).stdout.trim()).toBe("[]");
  });

  test('--config ""', async () => {
    const result = await env.run(["--config", "", "list"], { config: false });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--config needs a file, got ""');
  });
});

describe("spawn policy from the CLI", () => {
  test("a child starts in its parent's workDir by default, and may not leave it", async () => {
    const parent = await env.run(["spawn", "executive", "--json"]);
    expect(parent.code, parent.stderr).toBe(0);
    const { id, workDir } = JSON.parse(parent.stdout) as { id: string; workDir: string };
    // Run from elsewhere: the default is the parent's workDir, not the current directory.
    const child = await env.run(["spawn", "manager", "--parent", id, "--json"], { cwd: env.dir });
    expect(child.code, child.stderr).toBe(0);
    expect(JSON.parse(child.stdout)).toMatchObject({ parentId: id, workDir });

    const refused = await env.run(["spawn", "manager", "--parent", id, "--workdir", "/"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`error: A manager must work inside its parent's workDir: "/" is outside "${workDir}" of "${id}"`);
    expect(refused.stderr).not.toMatch(STACK_LINE);
    expect((await env.run(["terminate", id, "--cascade"])).code).toBe(0);
  });
});
