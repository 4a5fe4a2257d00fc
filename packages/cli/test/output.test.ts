import { describe, expect, test } from "vitest";
import { main } from "../src/index.js";
import type { InstanceSummary } from "@tmux-claude/core";
import { formatTable, formatTree } from "../src/commands/list.js";
import { formatRead } from "../src/commands/read.js";
import { formatAge, statusText, table, withProgress, type OutStream } from "../src/output.js";

function capture(isTTY = false): OutStream & { text: string } {
  const stream = {
    text: "",
    isTTY,
    write(chunk: string) {
      stream.text += chunk;
      return true;
    },
  };
  return stream;
}

describe("output", () => {
  test("table pads every column but the last", () => {
    expect(table(["ID", "ROLE"], [["exec-1", "executive"], ["exec-1.mgr-10", "manager"]])).toBe(
      "ID             ROLE\nexec-1         executive\nexec-1.mgr-10  manager",
    );
  });

  test("a limited instance shows until when its usage limit resets: list, tree and read", () => {
    const now = new Date("2030-01-02T10:00:00");
    const until = new Date("2030-01-02T10:05:03").toISOString();
    expect(statusText("limited", until, now)).toBe(`limited until ${new Date(until).toLocaleTimeString()}`);
    expect(statusText("limited", new Date("2030-01-03T09:00:00").toISOString(), now)).toBe(`limited until ${new Date("2030-01-03T09:00:00").toLocaleString()}`);
    expect(statusText("limited", undefined, now)).toBe("limited");
    expect(statusText("idle", until, now)).toBe("idle");
    const limited = { id: "exec-1", role: "executive", status: "limited", limitedUntil: until, parentId: null, agent: "claude", createdAt: "2030-01-02T09:59:00Z", workDir: "/w", children: [], tmux: { node: "a" } } as unknown as InstanceSummary;
    expect(formatTable([limited], [], now.getTime(), "a").split("\n")[1]).toContain("limited until ");
    expect(formatTree([limited], [], now.getTime()).split("\n")[1]).toContain("limited until ");
    expect(formatRead({ id: "exec-1", status: "limited", limitedUntil: until, statusReason: "rate_limit: usage limit reached", screen: "", queued: 1 }).split("\n")[0]).toMatch(
      /^exec-1: limited until \S.* \(rate_limit: usage limit reached\); 1 queued message$/u,
    );
  });

  test("list names the nodes when instances live on more than one, or on another node than this one", () => {
    const now = Date.parse("2030-01-02T00:00:00Z");
    const on = (id: string, node: string) =>
      ({ id, role: "executive", status: "idle", parentId: null, agent: "echo", createdAt: "2030-01-01T23:59:00Z", workDir: "/w", children: [], tmux: { node } }) as unknown as InstanceSummary;
    expect(formatTable([on("exec-1", "a"), on("exec-2", "a")], [], now).split("\n")[0]).not.toContain("NODE");
    expect(formatTable([on("exec-1", "a")], [], now, "a").split("\n")[0]).not.toContain("NODE");
    // Listed on node "a", an instance that runs on "b" alone must not look local.
    expect(formatTable([on("exec-1", "b")], [], now, "a").split("\n")[1]).toMatch(/\sb$/u);
    expect(formatTable([on("exec-1", "a"), on("exec-2", "b:sock")], [], now).split("\n")).toEqual([
      "ID      ROLE       STATUS  PARENT  AGENT  AGE  WORKDIR  NODE",
      "exec-1  executive  idle    -       echo   1m   /w       a",
      "exec-2  executive  idle    -       echo   1m   /w       b:sock",
    ]);
  });

  test("list shows an instance of a node that is down as unreachable, in the table and the tree", () => {
    const now = Date.parse("2030-01-02T00:00:00Z");
    const on = (id: string, node: string, unreachable?: string) =>
      ({ id, role: "executive", status: "idle", parentId: null, agent: "echo", createdAt: "2030-01-01T23:59:00Z", workDir: "/w", children: [], tmux: { node }, unreachable }) as unknown as InstanceSummary;
    const instances = [on("exec-1", "a"), on("exec-2", "b", 'node "b" is lost')];
    expect(formatTable(instances, [], now).split("\n")).toEqual([
      "ID      ROLE       STATUS       PARENT  AGENT  AGE  WORKDIR  NODE",
      "exec-1  executive  idle         -       echo   1m   /w       a",
      "exec-2  executive  unreachable  -       echo   1m   /w       b",
    ]);
    expect(formatTree(instances, [], now).split("\n")[2]).toMatch(/^exec-2\s+executive\s+unreachable\s/u);
  });

  test("list shows the columns plugins add, '-' where a plugin has no value", () => {
    const now = Date.parse("2030-01-02T00:00:00Z");
    const at = (id: string, parentId: string | null, children: string[]) =>
      ({ id, role: "manager", status: "idle", parentId, agent: "echo", createdAt: "2030-01-01T23:59:00Z", workDir: "/w", children, tmux: { node: "a" } }) as unknown as InstanceSummary;
    const branch = { header: "BRANCH", value: (i: { id: string }) => (i.id === "mgr-1" ? "tc/mgr-1" : undefined) };
    const instances = [at("mgr-1", null, ["mgr-1.spec-2"]), at("mgr-1.spec-2", "mgr-1", [])];
    expect(formatTable(instances, [branch], now).split("\n")[0]).toMatch(/WORKDIR  BRANCH$/u);
    expect(formatTree(instances, [branch], now).split("\n")).toEqual([
      "ID              ROLE     STATUS  AGENT  AGE  WORKDIR  BRANCH",
      "mgr-1           manager  idle    echo   1m   /w       tc/mgr-1",
      "  mgr-1.spec-2  manager  idle    echo   1m   /w       -",
    ]);
  });

  test("formatAge", () => {
    const now = Date.parse("2030-01-02T00:00:00Z");
    expect(formatAge("2030-01-01T23:59:18Z", now)).toBe("42s");
    expect(formatAge("2030-01-01T23:55:00Z", now)).toBe("5m");
    expect(formatAge("2030-01-01T21:00:00Z", now)).toBe("3h");
    expect(formatAge("2029-12-30T00:00:00Z", now)).toBe("3d");
  });

  test("progress draws a spinner with elapsed seconds on a TTY and clears it", async () => {
    const tty = capture(true);
    const value = await withProgress(tty, "spawning executive...", new Promise((resolve) => setTimeout(() => resolve(7), 250)));
    expect(value).toBe(7);
    expect(tty.text).toContain("spawning executive... 0s");
    expect(tty.text.match(/\r/gu)?.length).toBeGreaterThan(2);
    expect(tty.text.endsWith("\r\u001b[2K")).toBe(true);
  });

  test("progress writes nothing when not a TTY, and passes errors through", async () => {
    const pipe = capture(false);
    await expect(withProgress(pipe, "waiting...", Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(pipe.text).toBe("");
  });
});

describe("main in-process", () => {
  test("writes help to the injected stdout and returns the exit code", async () => {
    const stdout = capture();
    const stderr = capture();
    expect(await main(["node", "tmux-claude", "--help"], { stdout, stderr })).toBe(0);
    expect(stdout.text).toContain("Usage: tmux-claude");
    expect(stderr.text).toBe("");

    const unknown = capture();
    expect(await main(["node", "tmux-claude", "frobnicate"], { stdout, stderr: unknown, cwd: "/" })).toBe(2);
    expect(unknown.text).toContain("unknown command 'frobnicate'");
  });

  test("init refuses to overwrite, with --json as a JSON error on stdout", async () => {
    const { mkdtemp, rm } = await import("node:fs/promises");
    const os = await import("node:os");
    const path = await import("node:path");
    const dir = await mkdtemp(path.join(os.tmpdir(), "tc-cli-main-"));
    // init is recorded in the audit log of the config it wrote, whose state dir is the default one: keep it in the test's directory.
    const stateHome = process.env.XDG_STATE_HOME;
    process.env.XDG_STATE_HOME = dir;
    try {
      const out = capture();
      expect(await main(["node", "tmux-claude", "init"], { stdout: out, stderr: capture(), cwd: dir })).toBe(0);
      const err = capture();
      expect(await main(["node", "tmux-claude", "init"], { stdout: capture(), stderr: err, cwd: dir })).toBe(2);
      expect(err.text).toMatch(/^error: .*tmuxclaude\.config\.ts already exists/u);
    } finally {
      if (stateHome === undefined) delete process.env.XDG_STATE_HOME;
      else process.env.XDG_STATE_HOME = stateHome;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
