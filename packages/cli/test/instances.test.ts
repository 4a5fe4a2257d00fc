import { execFile } from "node:child_process";
import { once } from "node:events";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { BIN, createEnv, eventually, parseJson, type TestEnv, DELIVERED } from "./helpers.js";

const execFileAsync = promisify(execFile);

interface Record_ {
  id: string;
  role: string;
  status: string;
  parentId: string | null;
  workDir: string;
  children?: string[];
}

let env: TestEnv;
beforeAll(async () => {
  env = await createEnv();
});
afterAll(async () => {
  await env?.close();
});

async function spawnEcho(...args: string[]): Promise<Record_> {
  const result = await env.run(["spawn", "executive", "--json", ...args]);
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return parseJson<Record_>(result);
}

test("spawn, list, send, read, terminate round trip", async () => {
  const spawned = await spawnEcho("--name", "lead");
  expect(spawned).toMatchObject({ id: "exec-1", role: "executive", status: "idle", parentId: null, workDir: env.workDir });

  const child = await env.run(["spawn", "manager", "--parent", spawned.id]);
  expect(child.code).toBe(0);
  expect(child.stdout).toBe(`${spawned.id}.mgr-1\n`);

  const listed = parseJson<Record_[]>(await env.run(["list", "--json"]));
  expect(listed.map((r) => r.id)).toEqual(["exec-1", "exec-1.mgr-1"]);
  expect(listed[0]?.children).toEqual(["exec-1.mgr-1"]);

  const table = await env.run(["list"]);
  expect(table.code).toBe(0);
  const [header, ...rows] = table.stdout.trimEnd().split("\n");
  // COST: the cost plugin's column (the CLI always has it); "-" for an agent that reports no usage.
  expect(header?.split(/\s+/u)).toEqual(["ID", "ROLE", "STATUS", "PARENT", "AGENT", "AGE", "WORKDIR", "COST"]);
  expect(rows[1]?.split(/\s+/u).slice(0, 5)).toEqual(["exec-1.mgr-1", "manager", "idle", "exec-1", "echo"]);

  const tree = await env.run(["list", "--tree"]);
  expect(tree.stdout).toMatch(/^exec-1 +executive/mu);
  expect(tree.stdout).toMatch(/^ {2}exec-1\.mgr-1 +manager/mu);
  expect((await env.run(["list", "--role", "manager", "--json"])).stdout).not.toContain('"id": "exec-1",');

  const sent = await env.run(["send", spawned.id, "hello", "there;", "$(echo", "pwned)"]);
  expect(sent.code).toBe(0);
  expect(sent.stdout).toMatch(DELIVERED);
  const receipt = parseJson(await env.run(["send", spawned.id, "second", "--json"]));
  expect(receipt).toMatchObject({ instanceId: spawned.id, state: "delivered" });

  const read = parseJson<{ id: string; status: string; screen: string; queued: number }>(await env.run(["read", spawned.id, "--wait", "--json"]));
  expect(read).toMatchObject({ id: spawned.id, status: "idle", queued: 0 });
  expect(read.screen).toContain("echo: hello there; $(echo pwned)");
  expect(read.screen).toContain("echo: second");
  const plain = await env.run(["read", spawned.id, "--lines", "3"]);
  expect(plain.stdout).toMatch(/^exec-1: (idle|busy)/u);
  expect(plain.stdout).toContain("Screen:");

  expect((await env.received()).map((m) => m.text)).toEqual(["hello there; $(echo pwned)", "second"]);

  const refused = await env.run(["terminate", spawned.id]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain("exec-1.mgr-1");
  const terminated = parseJson<{ terminated: string[] }>(await env.run(["terminate", spawned.id, "--cascade", "--json"]));
  expect(terminated.terminated.sort()).toEqual(["exec-1", "exec-1.mgr-1"]);
  const empty = await env.run(["list"]);
  expect(empty.stdout).toBe("No instances.\n");
  expect(parseJson<unknown[]>(await env.run(["list", "--json"]))).toEqual([]);
});

test("send reads stdin verbatim with '-' or no text", async () => {
  const { id } = await spawnEcho();
  const text = "first line\n  second line with $HOME and `ticks`\nthird";
  const dash = await env.run(["send", id, "-"], { input: text });
  expect(dash.stdout).toMatch(DELIVERED);
  const none = await env.run(["send", id], { input: "from a pipe" });
  expect(none.stdout).toMatch(DELIVERED);
  await eventually(async () => (await env.received()).length >= 2, 5_000, "two messages");
  expect((await env.received()).slice(-2).map((m) => m.text)).toEqual([text, "from a pipe"]);

  const emptyInput = await env.run(["send", id, "-"], { input: "" });
  expect(emptyInput.code).toBe(2);
  expect(emptyInput.stderr).toContain("empty");
  await env.run(["terminate", id]);
});

test("read --wait returns when the turn ends", async () => {
  const { id } = await spawnEcho();
  expect((await env.run(["send", id, "/work 1200"])).stdout).toMatch(DELIVERED);
  const read = await env.run(["read", id, "--wait", "--json"]);
  const result = parseJson<{ status: string; screen: string }>(read);
  expect(result.status).toBe("idle");
  expect(result.screen).toMatch(/working\.\.\.\s+done/u);
  expect(read.ms).toBeGreaterThan(400);

  const timedOut = await env.run(["send", id, "/work 3000"]).then(() => env.run(["read", id, "--wait", "--timeout", "300"]));
  expect(timedOut.code).toBe(1);
  expect(timedOut.stderr).toContain("300 ms");
  await env.run(["terminate", id]);
});

test("without serve, send waits until a queued message is delivered (or returns at once with --no-wait)", async () => {
  const { id } = await spawnEcho();
  expect((await env.run(["send", id, "/work 1000"])).stdout).toMatch(DELIVERED);
  const waited = await env.run(["send", id, "after the work"]);
  expect(waited.code).toBe(0);
  expect(waited.stdout).toMatch(DELIVERED);
  const delivered = (await env.received()).find((m) => m.text === "after the work");
  expect(delivered?.busy).toBe(false);

  expect((await env.run(["send", id, "/work 4000"])).stdout).toMatch(DELIVERED);
  const noWait = await env.run(["send", id, "later", "--no-wait", "--json"]);
  expect(parseJson(noWait)).toMatchObject({ state: "queued", position: 1 });
  // Returned without waiting: nobody delivered it (no serve runs).
  expect((await env.received()).map((m) => m.text)).not.toContain("later");
  const refused = await env.run(["send", id, "now?", "--when-busy", "refuse"]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain("refused");
  // The queued message stays queued until someone delivers it: here a send that waits.
  const next = await env.run(["send", id, "last"]);
  expect(next.stdout).toMatch(DELIVERED);
  await eventually(async () => (await env.received()).some((m) => m.text === "last"), 5_000, "last message");
  const texts = (await env.received()).map((m) => m.text);
  expect(texts.indexOf("later")).toBeGreaterThan(texts.indexOf("/work 4000"));
  expect(texts.indexOf("last")).toBeGreaterThan(texts.indexOf("later"));
  await env.run(["terminate", id]);
});

describe("the seed's forms: spawn --role, list --active", () => {
  test("spawn --role <role> [--context <text>] [prompt...] spawns that role; a context alone is the first message", async () => {
    const before = (await env.received()).length;
    const contextOnly = await env.run(["spawn", "--role", "executive", "--context", "Build feature X", "--json"]);
    expect(contextOnly.code, contextOnly.stderr).toBe(0);
    const lead = parseJson<Record_ & { receipt?: { state: string } }>(contextOnly);
    expect(lead).toMatchObject({ role: "executive", parentId: null });
    expect(lead.receipt?.state).toBe("delivered");

    const child = await env.run(["spawn", "--role", "manager", "--parent", lead.id, "--context", "Background", "Write", "the tests"]);
    expect(child.code, child.stderr).toBe(0);
    expect(child.stdout).toBe(`${lead.id}.mgr-1\n`);
    const texts = (await env.received()).slice(before).map((m) => m.text);
    expect(texts).toEqual(["Build feature X", "Background\n\nWrite the tests"]);
    await env.run(["terminate", lead.id, "--cascade"]);
  });

  test("spawn with the role twice or not at all is a usage error (exit 2) that shows both forms", async () => {
    const ids = async () => parseJson<Record_[]>(await env.run(["list", "--json"])).map((r) => r.id);
    const before = await ids();
    const both = await env.run(["spawn", "executive", "--role", "manager", "--json"]);
    expect(both.code).toBe(2);
    const { error } = parseJson<{ error: { code: string; message: string } }>(both);
    expect(error.code).toBe("TC_INVALID_ARGUMENT");
    expect(error.message).toContain('got "executive" and --role manager');

    const neither = await env.run(["spawn", "--context", "Build feature X"]);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain("tmux-claude spawn <role> [prompt...] or tmux-claude spawn --role <role> [prompt...]");
    expect(await ids()).toEqual(before);
  });

  test("list --active leaves out exited instances; with --status it is a usage error", async () => {
    const gone = await spawnEcho();
    const alive = await spawnEcho();
    expect((await env.run(["send", gone.id, "/exit"])).code).toBe(0);
    await eventually(
      async () => parseJson<Record_[]>(await env.run(["list", "--json"])).find((r) => r.id === gone.id)?.status === "exited",
      10_000,
      `${gone.id} to exit`,
    );
    const active = parseJson<Record_[]>(await env.run(["list", "--active", "--json"]));
    expect(active.map((r) => r.id)).toContain(alive.id);
    expect(active.map((r) => r.id)).not.toContain(gone.id);
    expect(active.every((r) => r.status !== "exited")).toBe(true);
    const table = await env.run(["list", "--active"]);
    expect(table.stdout).toContain(alive.id);
    expect(table.stdout).not.toContain(gone.id);

    const conflict = await env.run(["list", "--active", "--status", "idle"]);
    expect(conflict.code).toBe(2);
    expect(conflict.stderr).toContain("--active");
    await env.run(["terminate", gone.id]);
    await env.run(["terminate", alive.id]);
  });
});

describe("errors", () => {
  test("an unknown instance exits 3 and names the id", async () => {
    for (const args of [["read", "ghost-7"], ["send", "ghost-7", "hi"], ["terminate", "ghost-7"], ["restart", "ghost-7"], ["attach", "ghost-7"]]) {
      const result = await env.run(args);
      expect(result.code, args.join(" ")).toBe(3);
      expect(result.stderr).toContain('"ghost-7"');
    }
    const json = await env.run(["read", "ghost-7", "--json"]);
    expect(json.code).toBe(3);
    expect(parseJson(json)).toEqual({ error: expect.objectContaining({ code: "TC_INSTANCE_NOT_FOUND", id: "ghost-7" }) });
    expect(json.stderr).toBe("");
  });

  test("an unknown role exits 2", async () => {
    const result = await env.run(["spawn", "wizard"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Unknown role "wizard"');
    expect(result.stderr).toContain("executive");
  });

  test("a missing workdir exits 2", async () => {
    const missing = path.join(env.dir, "does-not-exist");
    const result = await env.run(["spawn", "executive", "--workdir", missing]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(missing);
    expect(parseJson<Record_[]>(await env.run(["list", "--json"]))).toEqual([]);
  });

  test("an unknown agent and a missing prompt file exit 2", async () => {
    expect((await env.run(["spawn", "executive", "--agent", "nobody"])).code).toBe(2);
    const noFile = await env.run(["spawn", "executive", "--prompt-file", "nope.md"]);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toContain(path.join(env.workDir, "nope.md"));
  });
});

test("spawn with a prompt from --prompt-file - delivers it once ready", async () => {
  const result = await env.run(["spawn", "specialist", "--prompt-file", "-", "--json"], { input: "do the thing\nand report" });
  const record = parseJson<Record_ & { receipt?: { state: string } }>(result);
  expect(record.receipt?.state).toBe("delivered");
  await eventually(async () => (await env.received()).some((m) => m.text === "do the thing\nand report"), 5_000, "the prompt");
  expect((await env.run(["restart", record.id])).stdout).toBe(`Restarted ${record.id}; it is idle.\n`);
  await env.run(["terminate", record.id]);
});

describe("attach", () => {
  test("refuses without a terminal (exit 2)", async () => {
    const { id } = await spawnEcho();
    const result = await env.run(["attach", id]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("needs a terminal");
    await env.run(["terminate", id]);
  });

  // Run attach inside a pane of the instances' own tmux server: tmux sets TMUX there and refuses
  // to nest ("sessions should be nested with care") unless the CLI removes it.
  test("attaches from inside tmux, says how to detach, and returns tmux's exit code", async () => {
    const { id } = await spawnEcho();
    const tmux = (...args: string[]) => execFileAsync("tmux", ["-L", env.socket, ...args]);
    await tmux("set-option", "-g", "remain-on-exit", "on");
    // A tiny node wrapper records the CLI's exit code (tmux's own pane_dead_status is racy).
    const codeFile = path.join(env.dir, "attach-exit-code");
    const wrapper = 'const r = require("node:child_process").spawnSync(process.argv[2], process.argv.slice(3), { stdio: "inherit" }); require("node:fs").writeFileSync(process.argv[1], String(r.status))'; // no trailing ";": tmux would take it for a command separator
    await tmux("new-session", "-d", "-s", "outer", "-x", "120", "-y", "40", "--", process.execPath, "-e", wrapper, codeFile, process.execPath, BIN, "--config", env.configFile, "attach", id);
    try {
      await eventually(async () => (await tmux("list-clients", "-F", "#{session_name}").catch(() => ({ stdout: "" }))).stdout.includes(id), 10_000, "the attached client");
      await tmux("detach-client", "-s", id);
      const code = await eventually(() => readFile(codeFile, "utf8").catch(() => ""), 10_000, "attach to exit");
      const screen = (await tmux("capture-pane", "-p", "-J", "-S", "-200", "-t", "=outer:")).stdout;
      expect(code, screen).toBe("0");
      expect(screen).toContain("Detach with the prefix key twice");
      expect(screen).not.toContain("nested");
    } finally {
      await tmux("kill-session", "-t", "=outer").catch(() => undefined);
      await tmux("set-option", "-g", "remain-on-exit", "off");
      await env.run(["terminate", id]);
    }
  });
});

test("Ctrl-C while waiting exits 130 at once", async () => {
  const { id } = await spawnEcho();
  expect((await env.run(["send", id, "/work 4000"])).stdout).toMatch(DELIVERED);
  const child = env.start(["read", id, "--wait"]);
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const started = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 800));
  child.kill("SIGINT");
  const [code] = (await once(child, "close")) as [number | null];
  expect(code, stderr).toBe(130);
  expect(stderr).toContain("Interrupted");
  expect(Date.now() - started).toBeLessThan(3000);
  await env.run(["terminate", id]);
});

test("plugin commands run with their arguments as typed and return their exit code", async () => {
  const file = path.join(env.dir, "plugin.config.mjs");
  const base = (await readFile(env.configFile, "utf8")).replace(/^export default /u, "").replace(/;\s*$/u, "");
  await writeFile(
    file,
    `const base = ${base};
export default {
  ...base,
  plugins: [{
    name: "greeter",
    apply(ctx) {
      ctx.hooks.commands.tapPromise(async (list) => [...list, {
        name: "greet",
        description: "Say hello",
        async run(argv, kernel) {
          process.stdout.write(JSON.stringify({ argv, instances: (await kernel.list()).length }) + "\\n");
          return 7;
        },
      }]);
    },
  }],
};
`,
  );
  const result = await env.run(["--config", file, "greet", "a", "--loud", "b c"], { config: false });
  expect(result.code, result.stderr).toBe(7);
  expect(JSON.parse(result.stdout)).toEqual({ argv: ["a", "--loud", "b c"], instances: 0 });
  const unknown = await env.run(["--config", file, "gret"], { config: false });
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain("greet");
});

test("a plugin's options refused while the config file loads name that file (exit 2)", async () => {
  const file = path.join(env.dir, "options.config.mjs");
  const knowledge = new URL("../../plugin-knowledge/dist/index.js", import.meta.url).href;
  await writeFile(file, `import { knowledge } from ${JSON.stringify(knowledge)};\nexport default { plugins: [knowledge({ maxValueBytes: 0 })] };\n`);
  const result = await env.run(["--config", file, "list"], { config: false });
  expect(result.code, result.stderr).toBe(2);
  expect(result.stderr).toContain(`In config file ${file}: Invalid options for plugin "knowledge":`);
  expect(result.stderr).toContain("maxValueBytes");
});

test("a plugin's own error code reaches the CLI: its kind is the exit code, its code is in --json", async () => {
  const file = path.join(env.dir, "codes.config.mjs");
  const base = (await readFile(env.configFile, "utf8")).replace(/^export default /u, "").replace(/;\s*$/u, "");
  const core = new URL("../../core/dist/index.js", import.meta.url).href;
  await writeFile(
    file,
    `import { defineErrorCodes, TmuxClaudeError } from ${JSON.stringify(core)};
const codes = defineErrorCodes("quota", { EXCEEDED: { code: "TC_QUOTA_EXCEEDED", kind: "usage" } });
const base = ${base};
export default {
  ...base,
  plugins: [{
    name: "quota",
    apply(ctx) {
      ctx.hooks.beforeSpawn.tapPromise(async () => {
        throw new TmuxClaudeError(codes.EXCEEDED, "the team's quota of 0 agents is used up", { quota: 0 });
      });
    },
  }],
};
`,
  );
  const result = await env.run(["--config", file, "spawn", "executive"], { config: false });
  expect(result.code, result.stderr).toBe(2);
  expect(result.stderr).toContain('Plugin "quota" failed in hook "beforeSpawn": the team\'s quota of 0 agents is used up');
  const json = await env.run(["--config", file, "spawn", "executive", "--json"], { config: false });
  expect(json.code).toBe(2);
  expect(JSON.parse(json.stdout || json.stderr)).toMatchObject({ error: { code: "TC_QUOTA_EXCEEDED", plugin: "quota", quota: 0 } });
});
