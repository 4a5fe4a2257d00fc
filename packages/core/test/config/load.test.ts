import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, type ConfigIssue } from "../../src/config/load.js";
import { parseConfig } from "../../src/config/config.js";
import { configSchema } from "../../src/config/schema.js";
import { configTemplate } from "../../src/config/template.js";
import { ErrorCodes, TmuxClaudeError } from "../../src/errors.js";
import { Kernel } from "../../src/kernel/kernel.js";
import { createLogger } from "../../src/logger.js";
import { testSocket } from "@tmux-claude/testkit";

const CORE_DIR = fileURLToPath(new URL("../..", import.meta.url));
const defaults = parseConfig({});

let root: string;
let count = 0;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "tc-config-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fresh project directory with a `.git`, so the search never leaves it. */
async function project(files: Record<string, string> = {}): Promise<string> {
  const dir = path.join(root, `p${++count}`);
  await mkdir(path.join(dir, ".git"), { recursive: true });
  await writeFiles(dir, files);
  return dir;
}

async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
}

async function loadError(options: Parameters<typeof loadConfig>[0]): Promise<TmuxClaudeError> {
  const error: unknown = await loadConfig(options).then(
    () => new Error("expected loadConfig to fail"),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TmuxClaudeError);
  return error as TmuxClaudeError;
}

/** A stand-in for the installed package, for configs that import defineConfig. */
const STUB_CORE = {
  "node_modules/@tmux-claude/core/package.json": JSON.stringify({
    name: "@tmux-claude/core",
    type: "module",
    exports: { ".": "./index.js" },
  }),
  "node_modules/@tmux-claude/core/index.js": "export function defineConfig(config) { return config; }\n",
};

describe("loadConfig: finding the file", () => {
  it("gives the defaults and no filepath when there is no config", async () => {
    const dir = await project();
    expect(await loadConfig({ cwd: dir })).toEqual({ config: defaults, filepath: null });
  });

  it("loads a .ts file with type annotations, satisfies and a relative .ts import", async () => {
    const dir = await project({
      "tmuxclaude.config.ts": `
        import type { Level } from "./level.js";
        import { level } from "./level.js";
        interface Partial { limits: { maxDepth: number } }
        const limits: Partial["limits"] = { maxDepth: 5 as number };
        const logLevel: Level = level;
        export default { limits, logLevel } satisfies Record<string, unknown>;
      `,
      "level.ts": `export type Level = "debug" | "info";\nexport const level: Level = "debug";\n`,
    });
    const { config, filepath } = await loadConfig({ cwd: dir });
    expect(filepath).toBe(path.join(dir, "tmuxclaude.config.ts"));
    expect(config.limits.maxDepth).toBe(5);
    expect(config.limits.maxInstances).toBe(defaults.limits.maxInstances);
    expect(config.logLevel).toBe("debug");
  });

  it("loads .mts, .mjs, .js and .cjs files", async () => {
    const cases = {
      "tmuxclaude.config.mts": `const width: number = 120;\nexport default { tmux: { width } };`,
      "tmuxclaude.config.mjs": `export default { tmux: { width: 120 } };`,
      "tmuxclaude.config.js": `export default { tmux: { width: 120 } };`,
      "tmuxclaude.config.cjs": `module.exports = { tmux: { width: 120 } };`,
    };
    for (const [name, text] of Object.entries(cases)) {
      const dir = await project({ [name]: text });
      const { config, filepath } = await loadConfig({ cwd: dir });
      expect(filepath, name).toBe(path.join(dir, name));
      expect(config.tmux.width, name).toBe(120);
    }
  });

  it("loads a config that imports defineConfig from the installed @tmux-claude/core", async () => {
    const dir = await project({
      ...STUB_CORE,
      "tmuxclaude.config.ts": `import { defineConfig } from "@tmux-claude/core";\nexport default defineConfig({ defaultAgent: "bash" });`,
    });
    expect((await loadConfig({ cwd: dir })).config.defaultAgent).toBe("bash");
  });

  it("resolves the packages passed as modules (the CLI's shipped plugins) without their being installed", async () => {
    const dir = await project({
      "shipped/plugin.mjs": `export const marker = (agent) => ({ defaultAgent: agent });`,
      "tmuxclaude.config.ts": `import { marker } from "@tmux-claude/plugin-shipped";\nexport default marker("bash");`,
    });
    const modules = { "@tmux-claude/plugin-shipped": path.join(dir, "shipped/plugin.mjs") };
    expect((await loadConfig({ cwd: dir, modules })).config.defaultAgent).toBe("bash");
    // Without the alias the import is what it is: a package that is not there.
    const error = await loadError({ cwd: dir });
    expect(error.message).toMatch(/@tmux-claude\/plugin-shipped/u);
  });

  it("calls an exported function with the command and mode", async () => {
    const dir = await project({
      "tmuxclaude.config.ts": `
        export default ({ command, mode }: { command: string; mode: string }) => ({
          defaultAgent: command,
          env: { MODE: mode },
        });`,
    });
    const { config } = await loadConfig({ cwd: dir, command: "spawn" });
    expect(config.defaultAgent).toBe("spawn");
    expect(config.env).toEqual({ MODE: process.env["NODE_ENV"] ?? "development" });
  });

  it("awaits an exported async function", async () => {
    const dir = await project({
      "tmuxclaude.config.mjs": `export default async () => { await new Promise((r) => setTimeout(r, 5)); return { logLevel: "warn" }; };`,
    });
    expect((await loadConfig({ cwd: dir })).config.logLevel).toBe("warn");
  });

  it('reads the "tmux-claude" key of package.json', async () => {
    const dir = await project({
      "package.json": JSON.stringify({ name: "x", "tmux-claude": { limits: { maxInstances: 4 } } }),
    });
    const { config, filepath } = await loadConfig({ cwd: dir });
    expect(filepath).toBe(path.join(dir, "package.json"));
    expect(config.limits.maxInstances).toBe(4);
  });

  it("prefers a config file over the package.json key in the same directory", async () => {
    const dir = await project({
      "package.json": JSON.stringify({ "tmux-claude": { logLevel: "error" } }),
      "tmuxclaude.config.ts": `export default { logLevel: "debug" };`,
    });
    expect((await loadConfig({ cwd: dir })).config.logLevel).toBe("debug");
  });

  it("walks up from a nested directory, past package.json files without the key", async () => {
    const dir = await project({
      "tmuxclaude.config.ts": `export default { logLevel: "trace" };`,
      "packages/app/package.json": JSON.stringify({ name: "app" }),
    });
    await mkdir(path.join(dir, "packages/app/src/deep"), { recursive: true });
    const { config, filepath } = await loadConfig({ cwd: path.join(dir, "packages/app/src/deep") });
    expect(filepath).toBe(path.join(dir, "tmuxclaude.config.ts"));
    expect(config.logLevel).toBe("trace");
  });

  it("stops at the project root (.git): a config above it is not used", async () => {
    const outer = await project({ "tmuxclaude.config.ts": `export default { logLevel: "trace" };` });
    const inner = path.join(outer, "inner");
    await mkdir(path.join(inner, ".git"), { recursive: true });
    await mkdir(path.join(inner, "sub"), { recursive: true });
    expect(await loadConfig({ cwd: path.join(inner, "sub") })).toEqual({ config: defaults, filepath: null });
  });

  it("accepts a .git file (worktree, submodule) as the project root too", async () => {
    const outer = await project({ "tmuxclaude.config.ts": `export default { logLevel: "trace" };` });
    const inner = path.join(outer, "worktree");
    await writeFiles(inner, { ".git": "gitdir: /elsewhere\n" });
    expect((await loadConfig({ cwd: inner })).filepath).toBeNull();
  });

  it("loads an explicit --config file relative to cwd, ignoring the one the search would find", async () => {
    const dir = await project({
      "tmuxclaude.config.ts": `export default { logLevel: "trace" };`,
      "configs/other.ts": `export default { logLevel: "error" };`,
    });
    const { config, filepath } = await loadConfig({ cwd: dir, configFile: "configs/other.ts" });
    expect(filepath).toBe(path.join(dir, "configs/other.ts"));
    expect(config.logLevel).toBe("error");
  });

  it("reads the key of an explicit package.json, and says so when it has none", async () => {
    const dir = await project({
      "a/package.json": JSON.stringify({ "tmux-claude": { logLevel: "warn" } }),
      "b/package.json": JSON.stringify({ name: "b" }),
    });
    expect((await loadConfig({ cwd: dir, configFile: "a/package.json" })).config.logLevel).toBe("warn");
    const error = await loadError({ cwd: dir, configFile: "b/package.json" });
    expect(error.code).toBe(ErrorCodes.CONFIG_NOT_FOUND);
    expect(error.message).toContain(`${path.join(dir, "b/package.json")} has no "tmux-claude" key`);
  });

  it("treats an empty explicit file as an empty config", async () => {
    const dir = await project({ "empty.ts": "\n" });
    expect((await loadConfig({ cwd: dir, configFile: "empty.ts" })).config).toEqual(defaults);
  });
});

describe("loadConfig: files that cannot be loaded", () => {
  it("names the absolute path of a missing --config file and how to fix it", async () => {
    const dir = await project();
    const error = await loadError({ cwd: dir, configFile: "nope.ts" });
    expect(error.code).toBe(ErrorCodes.CONFIG_NOT_FOUND);
    expect(error.message).toContain(path.join(dir, "nope.ts"));
    expect(error.message).toContain("tmux-claude init");
    expect(error.kind).toBe("usage");
  });

  it("rejects a --config file of a kind it cannot read", async () => {
    const dir = await project({ "config.toml": "a = 1\n" });
    const error = await loadError({ cwd: dir, configFile: "config.toml" });
    expect(error.code).toBe(ErrorCodes.CONFIG_LOAD_FAILED);
    expect(error.message).toContain(".toml");
  });

  it("reports a syntax error with the file and the parser's message", async () => {
    const dir = await project({ "tmuxclaude.config.ts": `export default { logLevel: "debug",, };\n` });
    const error = await loadError({ cwd: dir });
    expect(error.code).toBe(ErrorCodes.CONFIG_LOAD_FAILED);
    expect(error.message).toContain(path.join(dir, "tmuxclaude.config.ts"));
    expect(error.message).toMatch(/Unexpected token/u);
    expect(error.details["filepath"]).toBe(path.join(dir, "tmuxclaude.config.ts"));
  });

  it("reports an error thrown while the config runs, even an ENOENT one", async () => {
    const dir = await project({
      "tmuxclaude.config.ts": `import { readFileSync } from "node:fs";\nexport default JSON.parse(readFileSync("/no/such/file.json", "utf8"));`,
    });
    const error = await loadError({ cwd: dir });
    expect(error.code).toBe(ErrorCodes.CONFIG_LOAD_FAILED);
    expect(error.message).toContain(path.join(dir, "tmuxclaude.config.ts"));
    expect(error.message).toContain("/no/such/file.json");
  });

  it("reports an exported function that throws", async () => {
    const dir = await project({ "tmuxclaude.config.ts": `export default () => { throw new Error("REDIS_URL is not set"); };` });
    const error = await loadError({ cwd: dir });
    expect(error.code).toBe(ErrorCodes.CONFIG_LOAD_FAILED);
    expect(error.message).toContain("REDIS_URL is not set");
  });

  it("reports a module without a default export instead of using the defaults", async () => {
    const dir = await project({ "tmuxclaude.config.ts": `export const config = { logLevel: "debug" };` });
    const error = await loadError({ cwd: dir });
    expect(error.code).toBe(ErrorCodes.CONFIG_LOAD_FAILED);
    expect(error.message).toContain("no default export");
  });

  it("reports an unparsable package.json", async () => {
    const dir = await project({ "package.json": "{ nope" });
    const error = await loadError({ cwd: dir });
    expect(error.code).toBe(ErrorCodes.CONFIG_LOAD_FAILED);
    expect(error.message).toContain(path.join(dir, "package.json"));
  });
});

describe("loadConfig: invalid values", () => {
  it("names the file, every key path, the value and what is allowed", async () => {
    const dir = await project({
      "tmuxclaude.config.ts": `export default {
        limits: { maxDepth: 0 },
        tmux: { sokcet: "x", width: "wide" },
        agents: { repl: { args: [] } },
        logLevel: "loud",
        roles: { Exec: { prefix: "exec" } },
      };`,
    });
    const file = path.join(dir, "tmuxclaude.config.ts");
    const error = await loadError({ cwd: dir });
    expect(error.code).toBe(ErrorCodes.CONFIG_INVALID);
    const lines = error.message.split("\n");
    expect(lines[0]).toBe(`Invalid config in ${file}:`);
    expect(lines).toContain("  - limits.maxDepth: expected an integer >= 1, got 0");
    expect(lines).toContain(
      '  - tmux.sokcet: unknown key; allowed keys: socket, binary, configFile, width, height, historyLimit (did you mean "socket"?)',
    );
    expect(lines).toContain('  - tmux.width: expected a number, got "wide"');
    expect(lines).toContain("  - agents.repl.command: missing; expected a string");
    expect(lines).toContain(
      '  - logLevel: expected one of "fatal", "error", "warn", "info", "debug", "trace", "silent", got "loud"',
    );
    expect(lines).toContain('  - roles.Exec: invalid key: expected a lowercase word, got "Exec"');
    expect(lines.at(-1)).toBe("See the config reference in the README.");

    const issues = error.details["issues"] as ConfigIssue[];
    expect(issues).toContainEqual({ path: "limits.maxDepth", message: "expected an integer >= 1, got 0", value: "0" });
    expect(issues).toContainEqual(expect.objectContaining({ path: "tmux.sokcet", value: '"x"' }));
    expect(issues).toContainEqual({ path: "agents.repl.command", message: "missing; expected a string", value: undefined });
    expect(error.details["filepath"]).toBe(file);
  });

  it("lists the allowed keys and the integer limit of a key that may also be false (limits.breaker, supervision.stallAfterMs)", async () => {
    const dir = await project({ "tmuxclaude.config.mjs": `export default { limits: { breaker: { fail: 2 } }, supervision: { stallAfterMs: 3000000000 } };` });
    const lines = (await loadError({ cwd: dir })).message.split("\n");
    expect(lines).toContain("  - limits.breaker.fail: unknown key; allowed keys: failures, windowMs, cooldownMs");
    expect(lines).toContain("  - supervision.stallAfterMs: expected an integer <= 2147483647, got 3000000000");
  });

  it("refuses timer keys above 2147483647 ms (Node would fire such a timer after 1 ms)", async () => {
    const dir = await project({ "tmuxclaude.config.mjs": `export default { limits: { spawnTimeout: 3000000000, sendTimeout: 3000000000, terminateGrace: 3000000000 } };` });
    const lines = (await loadError({ cwd: dir })).message.split("\n");
    for (const key of ["spawnTimeout", "sendTimeout", "terminateGrace"]) expect(lines).toContain(`  - limits.${key}: expected an integer <= 2147483647, got 3000000000`);
  });

  it("names the key of a bad node id", async () => {
    const dir = await project({ "tmuxclaude.config.mjs": `export default { node: { id: "my node" } };` });
    const error = await loadError({ cwd: dir });
    expect(error.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(error.message).toContain(`Invalid config in ${path.join(dir, "tmuxclaude.config.mjs")}:`);
    expect(error.message).toContain(`  - node.id: `);
    expect(error.message).toContain(`got "my node"`);
    expect(error.details["issues"]).toContainEqual(expect.objectContaining({ path: "node.id", value: '"my node"' }));
  });

  it("truncates long values", async () => {
    const dir = await project({ "tmuxclaude.config.mjs": `export default { defaultAgent: ["${"x".repeat(200)}"] };` });
    const [issue] = (await loadError({ cwd: dir })).details["issues"] as ConfigIssue[];
    expect(issue?.value).toHaveLength(80);
    expect(issue?.value?.endsWith("…")).toBe(true);
  });

  it("says where the config came from when it is the package.json key", async () => {
    const dir = await project({ "package.json": JSON.stringify({ "tmux-claude": { limits: { maxDepth: -1 } } }) });
    const error = await loadError({ cwd: dir });
    expect(error.message).toContain(`${path.join(dir, "package.json")} (key "tmux-claude")`);
    expect(error.message).toContain("limits.maxDepth: expected an integer >= 1, got -1");
  });

  it("reports an export that is not an object", async () => {
    const dir = await project({ "tmuxclaude.config.mjs": `export default "hello";` });
    expect((await loadError({ cwd: dir })).message).toContain('(the config itself): expected an object, got "hello"');
  });
});

describe("loadConfig: values that would silently mean something else", () => {
  it.each([
    ["null", "export default null;", "null"],
    ["undefined", "export default undefined;", "undefined"],
    ["an array", "export default [];", "[]"],
    ["a function returning null", "export default () => null;", "null"],
    ["module.exports = null", "module.exports = null;", "null"],
  ])("an export of %s is an error with the fix", async (what, body, value) => {
    const dir = await project({ [what.startsWith("module") ? "tmuxclaude.config.cjs" : "tmuxclaude.config.mjs"]: body });
    const error = await loadError({ cwd: dir });
    expect(error.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(error.kind).toBe("usage");
    expect(error.message).toContain(`(the config itself): expected an object, got ${value}`);
    expect(error.message).toContain("export default defineConfig({ ... })");
  });

  it("empty strings for paths and commands name the key and what to put there", async () => {
    const dir = await project({
      "tmuxclaude.config.mjs": `export default { stateDir: "", tmux: { binary: "", configFile: "" }, defaultAgent: "", agents: { a: { command: "" } }, env: { "": "x", "A=B": "y" } };`,
    });
    const issues = (await loadError({ cwd: dir })).details["issues"] as ConfigIssue[];
    const byPath = Object.fromEntries(issues.map((issue) => [issue.path, issue]));
    expect(byPath["stateDir"]).toMatchObject({ value: '""', message: expect.stringContaining("leave the key out for the default") });
    expect(byPath["tmux.binary"]?.message).toContain('the tmux program: "tmux" (on PATH) or an absolute path, got ""');
    expect(byPath["tmux.configFile"]?.message).toContain('or "none" for no config file');
    expect(byPath["defaultAgent"]?.message).toContain("the name of an agent under agents");
    expect(byPath["agents.a.command"]?.message).toContain("the program to run: a name on PATH or an absolute path");
    expect(byPath['env[""]']?.message).toBe('invalid key: expected a variable name (not empty, no "="), got ""');
    expect(byPath['env["A=B"]']?.message).toBe('invalid key: expected a variable name (not empty, no "="), got "A=B"');
  });

  it("an agent's invalid regex and a role's unknown agent fail the kernel's start, naming the key", async () => {
    const stateDir = path.join(root, `state-${++count}`);
    const start = (config: object) =>
      Kernel.start({ config: parseConfig({ tmux: { socket: testSocket("never-started") }, stateDir, ...config }), logger: createLogger("silent") }).then(
        () => new Error("expected the kernel to refuse the config"),
        (e: unknown) => e as TmuxClaudeError,
      );
    const regex = (await start({ agents: { repl: { command: "node", busyPattern: "[a-", waitingPattern: "ok" } } })) as TmuxClaudeError;
    expect(regex.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(regex.message).toContain("agents.repl.busyPattern: not a valid regular expression (/[a-/u: Unterminated character class)");
    expect(regex.message).toContain('got "[a-"');
    expect(regex.message).not.toContain("waitingPattern");
    // claude as the CLI has it: contributed by a plugin (Plugin.defaultAgents).
    const claudeAgent = { name: "claude", defaultAgents: { claude: { command: "claude" } }, apply() {} };
    const role = (await start({ roles: { solo: { prefix: "solo", agents: ["claude", "nope"] } }, plugins: [claudeAgent] })) as TmuxClaudeError;
    expect(role.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(role.message).toContain('roles.solo.agents[1]: "nope" is not a configured agent (agents: claude)');
    // Refused before anything was created.
    expect(existsSync(stateDir)).toBe(false);
  });
});

describe("loadConfig: plugins", () => {
  const plugin = (name: string) => `{ name: ${JSON.stringify(name)}, apply() {} }`;

  it("drops falsy entries so `process.env.X && plugin()` works", async () => {
    const dir = await project({
      "tmuxclaude.config.ts": `export default { plugins: [false, ${plugin("a")}, null, undefined, "", 0, ${plugin("b")}] };`,
    });
    const { config } = await loadConfig({ cwd: dir });
    expect(config.plugins.map((p) => p.name)).toEqual(["a", "b"]);
  });

  it("explains an entry that is not a plugin object at its index", async () => {
    const dir = await project({
      "tmuxclaude.config.ts": `export default { plugins: ["redis", ${plugin("ok")}, { name: "half" }] };`,
    });
    const error = await loadError({ cwd: dir });
    expect(error.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(error.message).toContain('  - plugins[0]: expected a plugin object { name, apply(ctx) } returned by a plugin factory, got "redis"');
    expect(error.message).toContain('  - plugins[2]: expected a plugin object { name, apply(ctx) } returned by a plugin factory, got {"name":"half"}');
    expect(error.message).not.toContain("plugins[1]");
  });
});

describe("loadConfig: paths", () => {
  it("resolves relative stateDir, tmux.configFile and a pool's workDir against the config file's directory", async () => {
    const dir = await project({
      "tmuxclaude.config.ts": `export default { stateDir: ".state", tmux: { configFile: "tmux/tmux.conf" }, pool: { specialist: { count: 1, per: "node", workDir: "work" }, manager: 1 } };`,
    });
    await mkdir(path.join(dir, "sub"), { recursive: true });
    const { config } = await loadConfig({ cwd: path.join(dir, "sub") });
    expect(config.stateDir).toBe(path.join(dir, ".state"));
    expect(config.tmux.configFile).toBe(path.join(dir, "tmux/tmux.conf"));
    expect(config.pool).toEqual({ specialist: { count: 1, per: "node", workDir: path.join(dir, "work") }, manager: 1 });
  });

  it('keeps absolute paths and tmux.configFile "none" as they are', async () => {
    const dir = await project({
      "tmuxclaude.config.ts": `export default { stateDir: "/var/tmp/tc", tmux: { configFile: "none" } };`,
    });
    const { config } = await loadConfig({ cwd: dir });
    expect(config.stateDir).toBe("/var/tmp/tc");
    expect(config.tmux.configFile).toBe("none");
  });
});

describe("configTemplate", () => {
  /** The template's example agent is the one difference from the defaults. */
  const expectDefaultsWithExampleAgent = (config: typeof defaults) => {
    expect({ ...config, agents: {} }).toEqual(defaults);
    expect(Object.keys(config.agents)).toEqual(["bash"]);
    const bash = config.agents["bash"]!;
    expect(bash).toMatchObject({ adapter: "command", command: "bash" });
    for (const key of ["readyPattern", "idlePattern"]) {
      const source = bash[key];
      expect(typeof source, key).toBe("string");
      const pattern = new RegExp(source as string, "mu");
      expect(pattern.test("bash-5.2$ "), key).toBe(true);
      expect(pattern.test("root@host:~# "), key).toBe(true);
      expect(pattern.test("compiling..."), key).toBe(false);
    }
  };

  it("shows every top-level key of the schema", () => {
    const text = configTemplate();
    for (const key of Object.keys(configSchema.shape)) {
      expect(text, key).toMatch(new RegExp(`^\\s*(// )?${key}:`, "mu"));
    }
    expect(text).toContain('import { defineConfig } from "@tmux-claude/core";');
    expect(text).toContain("// git({ autoCommit: true }),");
  });

  it("loads and validates to the defaults (plus its example agent)", async () => {
    const dir = await project({ ...STUB_CORE, "tmuxclaude.config.ts": configTemplate() });
    const { config, filepath } = await loadConfig({ cwd: dir });
    expect(filepath).toBe(path.join(dir, "tmuxclaude.config.ts"));
    expectDefaultsWithExampleAgent(config);
  });

  // Needs the built package (`npx tsc -p packages/core/tsconfig.json`) with src/index.ts exporting defineConfig.
  it.skipIf(!existsSync(path.join(CORE_DIR, "dist/index.js")))(
    "loads with the real built @tmux-claude/core installed",
    async () => {
      const dir = await project({ "tmuxclaude.config.ts": configTemplate() });
      await mkdir(path.join(dir, "node_modules/@tmux-claude"), { recursive: true });
      await symlink(CORE_DIR, path.join(dir, "node_modules/@tmux-claude/core"), "dir");
      expectDefaultsWithExampleAgent((await loadConfig({ cwd: dir })).config);
    },
  );
});
