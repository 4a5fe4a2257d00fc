import { afterAll, beforeAll, expect, test } from "vitest";
import { z } from "zod";
import { createLogger, definePlugin, parseConfig, ErrorCodes, Kernel, KERNEL_VERSION, type Plugin, type TmuxClaudeError, type UserConfig } from "../../src/index.js";
import { createHarness, type Harness } from "@tmux-claude/testkit";

let h: Harness;
beforeAll(async () => {
  h = await createHarness({}, { watch: "on-demand" });
});
afterAll(async () => {
  await h?.close();
});

function kernelWith(plugins: UserConfig["plugins"]): Kernel {
  const config = parseConfig({ ...h.config, plugins, tmux: h.config.tmux, agents: h.config.agents });
  return new Kernel({ config, logger: createLogger("silent") });
}

test("hooks run in lifecycle order, spawn options flow through the waterfall, close runs in reverse", async () => {
  const events: string[] = [];
  const recorder = (name: string): Plugin => ({
    name,
    apply(ctx) {
      events.push(`${name}:apply`);
      ctx.hooks.init.tapPromise(async () => void events.push(`${name}:init`));
      ctx.hooks.ready.tapPromise(async () => void events.push(`${name}:ready`));
      ctx.hooks.beforeSpawn.tapPromise(async (plan) => {
        events.push(`${name}:beforeSpawn`);
        return { ...plan, env: { ...plan.env, CHAIN: `${plan.env.CHAIN ?? ""}${name}` }, name: `${plan.name ?? ""}${name}` };
      });
      ctx.hooks.afterSpawn.tapPromise(async (instance) => void events.push(`${name}:afterSpawn:${instance.id}`));
      ctx.hooks.beforeSend.tapPromise(async (message) => {
        events.push(`${name}:beforeSend`);
        return { ...message, text: `${message.text}+${name}` };
      });
      ctx.hooks.afterSend.tapPromise(async (_message, receipt) => void events.push(`${name}:afterSend:${receipt.state}`));
      ctx.hooks.statusChange.tapPromise(async (change) => void events.push(`${name}:status:${change.from}->${change.to}`));
      ctx.hooks.beforeTerminate.tapPromise(async () => void events.push(`${name}:beforeTerminate`));
      ctx.hooks.afterTerminate.tapPromise(async () => void events.push(`${name}:afterTerminate`));
      ctx.hooks.shutdown.tapPromise(async () => void events.push(`${name}:shutdown`));
      ctx.onClose(() => void events.push(`${name}:close`));
    },
  });
  const kernel = kernelWith([recorder("a"), false, null, recorder("b")]);
  await kernel.start();
  expect(kernel.pluginNames()).toEqual(["a", "b"]);
  const { instance } = await kernel.spawn({ role: "executive", workDir: h.workDir });
  expect(instance.name).toBe("ab");
  expect(instance.launch.env.CHAIN).toBe("ab");
  await kernel.send(instance.id, "hi");
  expect((await h.received()).at(-1)!.text).toBe("hi+a+b");
  await kernel.terminate(instance.id);
  await kernel.close();
  await kernel.close(); // idempotent
  const order = events.filter((e) => !e.includes(":status:"));
  expect(order).toEqual([
    "a:apply", "b:apply", "a:init", "b:init", "a:ready", "b:ready",
    "a:beforeSpawn", "b:beforeSpawn", `a:afterSpawn:${instance.id}`, `b:afterSpawn:${instance.id}`,
    "a:beforeSend", "b:beforeSend", "a:afterSend:delivered", "b:afterSend:delivered",
    "a:beforeTerminate", "b:beforeTerminate", "a:afterTerminate", "b:afterTerminate",
    "a:shutdown", "b:shutdown", "b:close", "a:close",
  ]);
  expect(events).toContain("a:status:starting->idle");
});

test("a failing plugin is named with its hook, and the spawn leaves nothing behind", async () => {
  const kernel = kernelWith([
    { name: "fine", apply: () => undefined },
    {
      name: "broken-worktrees",
      apply(ctx) {
        ctx.hooks.beforeSpawn.tapPromise(async () => {
          throw new Error("git worktree add failed: disk full");
        });
      },
    },
  ]);
  await kernel.start();
  const before = (await kernel.list()).length;
  const error = (await kernel.spawn({ role: "executive", workDir: h.workDir }).catch((e: unknown) => e)) as TmuxClaudeError;
  expect(error.code).toBe(ErrorCodes.PLUGIN_HOOK_FAILED);
  expect(error.message).toBe('Plugin "broken-worktrees" failed in hook "beforeSpawn": git worktree add failed: disk full');
  expect(error.details).toMatchObject({ plugin: "broken-worktrees", hook: "beforeSpawn" });
  expect((await kernel.list()).length).toBe(before);
  await kernel.close();
});

test("a failing afterSpawn removes the instance it just made", async () => {
  const kernel = kernelWith([
    {
      name: "announcer",
      apply(ctx) {
        ctx.hooks.afterSpawn.tap(() => {
          throw new Error("webhook unreachable");
        });
      },
    },
  ]);
  await kernel.start();
  const before = (await kernel.list()).length;
  const sessionsBefore = await h.tmux("list-sessions", "-F", "#{session_name}");
  const error = (await kernel.spawn({ role: "executive", workDir: h.workDir }).catch((e: unknown) => e)) as TmuxClaudeError;
  expect(error.message).toContain('Plugin "announcer" failed in hook "afterSpawn"');
  expect((await kernel.list()).length).toBe(before);
  expect(await h.tmux("list-sessions", "-F", "#{session_name}")).toBe(sessionsBefore);
  await kernel.close();
});

test("plugin definition errors: duplicates, missing dependencies, invalid options, failing apply", async () => {
  const plain = (name: string, dependencies?: string[]): Plugin => ({ name, dependencies, apply: () => undefined });
  const expectStartError = async (plugins: UserConfig["plugins"], code: string, text: string) => {
    const kernel = kernelWith(plugins);
    const error = (await kernel.start().catch((e: unknown) => e)) as TmuxClaudeError;
    expect(error.code).toBe(code);
    expect(error.message).toContain(text);
    await kernel.close();
  };
  await expectStartError([plain("git"), plain("git")], ErrorCodes.PLUGIN_DUPLICATE, '"git" is registered twice');
  await expectStartError([plain("dashboard", ["redis"])], ErrorCodes.PLUGIN_MISSING_DEPENDENCY, 'Plugin "dashboard" needs plugin(s) "redis"');
  await expectStartError(
    [{ name: "explodes", apply: () => { throw new Error("boom"); } }],
    ErrorCodes.PLUGIN_HOOK_FAILED,
    'Plugin "explodes" failed in apply: boom',
  );
  const git = definePlugin({
    name: "git",
    options: z.object({ baseBranch: z.string().default("main"), cleanup: z.boolean().default(true) }),
    setup() {},
    api: (options) => ({ base: options.baseBranch }),
  });
  expect(git({ baseBranch: "dev" }).api).toEqual({ base: "dev" });
  expect(() => git({ cleanup: "yes" } as never)).toThrowError(/Invalid options for plugin "git":\n {2}- cleanup: /u);
});

test("plugins find each other's api; a statusChange failure does not break the kernel", async () => {
  let seen: unknown;
  const kernel = kernelWith([
    { name: "provider", api: { greet: () => "hello" }, apply: () => undefined },
    {
      name: "consumer",
      dependencies: ["provider"],
      apply(ctx) {
        seen = ctx.plugin<{ greet(): string }>("provider").greet();
        ctx.hooks.statusChange.tapPromise(async () => {
          throw new Error("listener bug");
        });
      },
    },
  ]);
  await kernel.start();
  expect(seen).toBe("hello");
  const { instance } = await kernel.spawn({ role: "executive", workDir: h.workDir });
  expect((await kernel.send(instance.id, "still works")).state).toBe("delivered");
  await kernel.terminate(instance.id);
  await kernel.close();
});

test("route: the first plugin that returns a receipt delivers the message; otherwise local tmux does", async () => {
  const routed: string[] = [];
  const kernel = kernelWith([
    {
      name: "remote-bus",
      apply(ctx) {
        ctx.hooks.route.tapPromise(async (request) => {
          if (request.operation !== "send" || !request.message.text.startsWith("remote:")) return undefined;
          expect(request.node).toBe(ctx.kernel.node);
          routed.push(request.message.text);
          return { messageId: request.message.id, instanceId: request.instance.id, state: "queued", position: 1 };
        });
      },
    },
  ]);
  await kernel.start();
  const { instance } = await kernel.spawn({ role: "executive", workDir: h.workDir });
  const before = (await h.received()).length;
  expect(await kernel.send(instance.id, "remote: elsewhere")).toMatchObject({ state: "queued", position: 1 });
  expect(routed).toEqual(["remote: elsewhere"]);
  expect((await kernel.send(instance.id, "local")).state).toBe("delivered");
  expect((await h.received()).slice(before).map((m) => m.text)).toEqual(["local"]);
  await kernel.terminate(instance.id);
  await kernel.close();
});

test("agents are checked at start: unknown adapters and misspelled adapter options name the key", async () => {
  const start = async (agents: Record<string, unknown>) => {
    const config = parseConfig({ ...h.config, plugins: [], agents: { ...h.config.agents, ...agents } });
    const kernel = new Kernel({ config, configPath: "/p/tmuxclaude.config.ts", logger: createLogger("silent") });
    const error = (await kernel.start().catch((e: unknown) => e)) as TmuxClaudeError;
    await kernel.close();
    return error;
  };
  const typo = await start({ repl: { adapter: "command", command: "python3", readyPatern: ">>> " } });
  expect(typo.code).toBe(ErrorCodes.CONFIG_INVALID);
  expect(typo.message).toContain("/p/tmuxclaude.config.ts");
  expect(typo.message).toContain("agents.repl.readyPatern");
  const wrongType = await start({ repl: { adapter: "command", command: "python3", submitKey: 13 } });
  expect(wrongType.message).toContain("agents.repl.submitKey");
  const missing = await start({ aider: { adapter: "aider", command: "aider" } });
  // The kernel has only the generic command adapter; claude comes from its plugin.
  expect(missing.message).toContain('agents.aider.adapter: "aider" is not an available adapter (available: command)');
});

test("defaultAgents: a plugin's agents join the config, the user's own agent of that name wins, two plugins may not contribute one name", async () => {
  const contributing = (name: string, command: string): Plugin => ({ name, defaultAgents: { helper: { command } }, apply() {} });
  const kernel = new Kernel({ config: parseConfig({ ...h.config, plugins: [contributing("a", "true")] }), logger: createLogger("silent") });
  expect(kernel.config.agents.helper).toEqual({ adapter: "command", command: "true", args: [], env: {} });
  expect(kernel.config.agents.echo).toEqual(h.config.agents.echo);
  const own = { adapter: "command", command: "false", args: [], env: {} };
  const mine = new Kernel({ config: parseConfig({ ...h.config, agents: { ...h.config.agents, helper: own }, plugins: [contributing("a", "true")] }), logger: createLogger("silent") });
  expect(mine.config.agents.helper).toEqual(own);
  let clash: unknown;
  try {
    new Kernel({ config: parseConfig({ ...h.config, plugins: [contributing("a", "true"), contributing("b", "false")] }), logger: createLogger("silent") });
  } catch (error) {
    clash = error;
  }
  expect(clash).toMatchObject({ code: ErrorCodes.PLUGIN_INVALID, details: { plugin: "b", agent: "helper" } });
  expect((clash as Error).message).toBe('Plugins "a" and "b" both contribute the agent "helper". Define agents.helper in your config to choose, or remove one of the plugins.');
});

test("defaultRoles: a plugin's roles join the configured ones, the user's own role of that name wins, two plugins may not contribute one name", async () => {
  const contributing = (name: string, prefix: string): Plugin => ({ name, defaultRoles: { resolver: { prefix } }, apply() {} });
  const kernel = new Kernel({ config: parseConfig({ ...h.config, plugins: [contributing("a", "res")] }), logger: createLogger("silent") });
  expect(kernel.config.roles.resolver).toEqual({ prefix: "res", spawns: [], topLevel: true, workDirOutsideParent: false });
  expect(kernel.config.roles.manager).toEqual(parseConfig(h.config).roles.manager);
  const own = { prefix: "fixer", spawns: [], topLevel: true, workDirOutsideParent: false, agents: ["echo"] };
  const mine = new Kernel({ config: parseConfig({ ...h.config, roles: { resolver: own }, plugins: [contributing("a", "res")] }), logger: createLogger("silent") });
  expect(mine.config.roles.resolver).toEqual(own);
  let clash: unknown;
  try {
    new Kernel({ config: parseConfig({ ...h.config, plugins: [contributing("a", "res"), contributing("b", "fix")] }), logger: createLogger("silent") });
  } catch (error) {
    clash = error;
  }
  expect(clash).toMatchObject({ code: ErrorCodes.PLUGIN_INVALID, details: { plugin: "b", role: "resolver" } });
  expect((clash as Error).message).toBe('Plugins "a" and "b" both contribute the role "resolver". Define roles.resolver in your config to choose, or remove one of the plugins.');
});

test("KERNEL_VERSION, which plugins' kernel ranges are checked against, is the package's version", async () => {
  const { readFile } = await import("node:fs/promises");
  const pkg = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  expect(KERNEL_VERSION).toBe(pkg.version);
});

test("doctor: a plugin's own checks get its parsed options; a plugin without them has none", async () => {
  const probe = definePlugin({
    name: "probe",
    options: z.object({ target: z.string().default("db") }),
    setup: () => undefined,
    doctor: async (options) => [{ name: "probe", ok: true, detail: `reached ${options.target}` }],
  });
  expect(await probe({}).doctor?.()).toEqual([{ name: "probe", ok: true, detail: "reached db" }]);
  expect(definePlugin({ name: "plain", setup: () => undefined })().doctor).toBeUndefined();
});
