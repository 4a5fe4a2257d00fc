// Spawn is ready only once the instance's MCP session initialized and listed its tools, also when
// the spawn runs in a one-shot kernel and another kernel (serve) hosts the
// endpoint: the endpoint stamps the instance's record, the spawner watches it.
// The echo agent stands in for an MCP client (`awaitSession: ["command"]`);
// the test opens the session with the instance's own token, as Claude Code would.
import { ErrorCodes, sessionNameFor, type Kernel, type SpawnResult } from "@tmux-claude/core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { mcp, type McpApi } from "../src/index.js";
import { createSetup, freePort, httpClient, ok, tokenOf, type Setup } from "./helpers.js";

/** What Claude Code does when it connects: initialize a session, then ask for its tools. */
async function listTools(url: string, token: string): Promise<void> {
  const client = await httpClient(url, token);
  try {
    await client.listTools();
  } finally {
    await client.close();
  }
}

/** A promise with its state readable synchronously. */
function tracked<T>(promise: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  return { promise, settled: () => settled };
}

describe("an instance with MCP is ready once its session initialized", () => {
  let s: Setup;
  let port: number;
  let oneShot: Kernel;
  let serve: Kernel;
  let url: string;
  beforeAll(async () => {
    s = await createSetup({ limits: { spawnTimeout: 20_000, sendTimeout: 5_000 } });
    port = await freePort();
    oneShot = await s.startKernel({ watch: "on-demand", config: { plugins: [mcp({ port, awaitSession: ["command"] })] } });
    serve = await s.startKernel({ watch: "all", config: { plugins: [mcp({ port, awaitSession: ["command"] })] } });
    ({ url } = await serve.plugin<McpApi>("mcp")!.listen());
  });
  afterAll(async () => {
    await s?.close();
  });

  test("a one-shot spawn waits for the session that serve's endpoint sees, and types the prompt after it", async () => {
    const spawning = tracked<SpawnResult>(oneShot.spawn({ role: "executive", workDir: s.workDir, prompt: "after the session" }));
    // The agent itself is up (idle in the store), yet the spawn holds: no session yet, no prompt typed.
    await expect.poll(async () => (await oneShot.list()).find((i) => i.role === "executive")?.status, { timeout: 30_000 }).toBe("idle");
    const [pending] = await oneShot.list();
    expect(spawning.settled()).toBe(false);
    expect(await s.received()).toEqual([]);

    const client = await httpClient(url, await tokenOf(oneShot, pending!.id));
    try {
      // Initialized, but the client does not have its tools yet: still held.
      await expect.poll(async () => ((await serve.get(pending!.id)).pluginState?.mcp as { initializedAt?: number } | undefined)?.initializedAt, { timeout: 5_000 }).toBeDefined();
      expect(spawning.settled()).toBe(false);
      await client.listTools();
      const { instance, receipt } = await spawning.promise;
      expect(instance.id).toBe(pending!.id);
      expect(receipt?.state).toBe("delivered");
      expect((await s.received()).map((m) => m.text)).toEqual(["after the session"]);
      // The stamp is in the record, for every process.
      expect((await serve.get(instance.id)).pluginState?.mcp).toMatchObject({ initializedAt: expect.any(Number), toolsListedAt: expect.any(Number) });
      expect((await ok<{ instances: { id: string }[] }>(client, "list")).instances.map((i) => i.id)).toContain(instance.id);
    } finally {
      await client.close();
    }
    await oneShot.terminate(pending!.id);
  });

  test("a restart waits for a new session: the previous launch's does not count", async () => {
    const spawning = oneShot.spawn({ role: "executive", workDir: s.workDir });
    await expect.poll(async () => (await oneShot.list()).find((i) => i.status === "idle")?.id, { timeout: 30_000 }).toBeDefined();
    const id = (await oneShot.list())[0]!.id;
    const token = await tokenOf(oneShot, id);
    await listTools(url, token);
    await spawning;
    // The one-shot kernel reads plugins' state from the store, where serve's endpoint wrote it.
    const before = (await oneShot.get(id)).pluginState?.mcp as { toolsListedAt: number };
    const oldPane = (await oneShot.get(id)).tmux.paneId;

    const restarting = tracked(oneShot.restart(id));
    // The new launch is up (a new pane, the agent idle, serve follows it); only its own session may let it through.
    await expect
      .poll(async () => {
        const [mine, served] = [await oneShot.get(id), await serve.get(id)];
        return mine.tmux.paneId !== oldPane && mine.status === "idle" && served.tmux.paneId === mine.tmux.paneId && served.status !== "exited";
      }, { timeout: 30_000 })
      .toBe(true);
    expect(restarting.settled()).toBe(false);
    await listTools(url, token);
    await restarting.promise;
    expect(((await oneShot.get(id)).pluginState?.mcp as { toolsListedAt: number }).toolsListedAt).toBeGreaterThan(before.toolsListedAt);
    await oneShot.terminate(id);
  });

  test("with nothing listening, the spawn fails at once, says to start serve, and leaves nothing behind", async () => {
    const alone = await s.startKernel({ watch: "on-demand", config: { plugins: [mcp({ port: await freePort(), awaitSession: ["command"] })] } });
    const error = await alone.spawn({ role: "executive", workDir: s.workDir, prompt: "never typed" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCodes.SPAWN_FAILED, details: { plugin: "mcp", hook: "awaitReady" } });
    expect((error as Error).message).toMatch(/cannot open its MCP session: nothing listens at http:\/\/127\.0\.0\.1:\d+\/mcp.*Start `tmux-claude serve`/u);
    const id = (error as { details: { id: string } }).details.id;
    expect((await alone.list()).map((i) => i.id)).not.toContain(id);
    expect((await s.tmux("list-sessions", "-F", "#{session_name}")).split("\n")).not.toContain(sessionNameFor(id));
    expect(await s.received()).not.toContainEqual(expect.objectContaining({ text: "never typed" }));
  });

  test("when the endpoint never sees the session, the spawn times out saying so, and leaves nothing behind", async () => {
    const t = await createSetup({ limits: { spawnTimeout: 5_000, sendTimeout: 5_000 } });
    try {
      const quick = await t.startKernel({ watch: "on-demand", config: { plugins: [mcp({ port: 0, awaitSession: ["command"] })] } });
      const { url: quickUrl } = await quick.plugin<McpApi>("mcp")!.listen();
      const error = await quick.spawn({ role: "executive", workDir: t.workDir }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: ErrorCodes.SPAWN_TIMEOUT, details: { plugin: "mcp", url: quickUrl } });
      expect((error as Error).message).toMatch(
        /not ready within limits\.spawnTimeout \(5000 ms\)\. Its MCP session never initialized: the endpoint at \S+ saw no initialize request with its token\. Something listens there/u,
      );
      expect(await quick.list()).toEqual([]);
      const sessions = await t.tmux("list-sessions", "-F", "#{session_name}").catch(() => "");
      expect(sessions.split("\n")).not.toContain(sessionNameFor((error as { details: { id: string } }).details.id));
    } finally {
      await t.close();
    }
  }, 30_000);

  test("agents of adapters not named in awaitSession are not held", async () => {
    const lenient = await s.startKernel({ watch: "on-demand", config: { plugins: [mcp({ port: await freePort() })] } });
    const { instance, receipt } = await lenient.spawn({ role: "executive", workDir: s.workDir, prompt: "no session needed" });
    expect(receipt?.state).toBe("delivered");
    await lenient.terminate(instance.id);
  });
});
