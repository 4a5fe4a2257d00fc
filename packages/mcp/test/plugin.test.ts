import type { Kernel } from "@tmux-claude/core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { defaultPort, mcp, MCP_TOKEN_ENV, PORT_RANGE, withMcp, type McpApi } from "../src/index.js";
import { createSetup, freePort, httpClient, ok, tokenOf, type Setup } from "./helpers.js";

describe("options", () => {
  test("the default port is derived from the socket name, within the range", () => {
    expect(defaultPort("tmux-claude")).toBe(defaultPort("tmux-claude"));
    for (const socket of ["tmux-claude", "a", "project-x", "tc-test-1"]) {
      expect(defaultPort(socket)).toBeGreaterThanOrEqual(PORT_RANGE.first);
      expect(defaultPort(socket)).toBeLessThan(PORT_RANGE.first + PORT_RANGE.size);
    }
    expect(new Set(["a", "b", "c", "d", "e"].map(defaultPort)).size).toBeGreaterThan(1);
  });

  test("invalid options name the option", () => {
    expect(() => mcp({ port: 70_000 })).toThrow(/Invalid options for plugin "mcp":\n {2}- port:/u);
    expect(() => mcp({ path: "mcp" } as never)).toThrow(/- path: .*starting with "\/"/u);
    expect(() => mcp({ hots: "x" } as never)).toThrow(/hots/u);
  });

  test("withMcp adds the plugin once and keeps a configured one", async () => {
    const s = await createSetup();
    try {
      expect(withMcp(s.config).plugins.map((p) => p.name)).toEqual(["mcp"]);
      const mine = mcp({ port: 41_999 });
      expect(withMcp({ ...s.config, plugins: [mine] }).plugins).toEqual([mine]);
    } finally {
      await s.close();
    }
  });
});

describe("the endpoint across processes and restarts", () => {
  let s: Setup;
  let port: number;
  let oneShot: Kernel;
  let serve: Kernel;
  beforeAll(async () => {
    s = await createSetup();
    port = await freePort();
    oneShot = await s.startKernel({ watch: "on-demand", config: { plugins: [mcp({ port })] } });
    serve = await s.startKernel({ watch: "all", config: { plugins: [mcp({ port })] } });
  });
  afterAll(async () => {
    await s?.close();
  });

  test("a token minted by a one-shot kernel is accepted by the serving kernel", async () => {
    const { url } = await serve.plugin<McpApi>("mcp")!.listen();
    expect(url).toBe(`http://127.0.0.1:${port}/mcp`);
    // listen() is idempotent.
    expect((await serve.plugin<McpApi>("mcp")!.listen()).port).toBe(port);
    const { instance } = await oneShot.spawn({ role: "executive", workDir: s.workDir });
    const client = await httpClient(url, await tokenOf(oneShot, instance.id));
    try {
      const listed = await ok<{ instances: { id: string }[] }>(client, "list");
      expect(listed.instances.map((i) => i.id)).toEqual([instance.id]);
    } finally {
      await client.close();
    }
  });

  test("an exited instance's token is refused until it is restarted, with the same token", async () => {
    const { instance } = await oneShot.spawn({ role: "executive", workDir: s.workDir });
    const token = await tokenOf(oneShot, instance.id);
    const { url } = await serve.plugin<McpApi>("mcp")!.listen();
    // The agent's session ends (as when a person kills it); the kernels mark the instance exited.
    await s.tmux("kill-session", "-t", instance.tmux.session);
    await expect.poll(async () => (await serve.get(instance.id)).status, { timeout: 10_000 }).toBe("exited");
    await expect(httpClient(url, token)).rejects.toThrow(/401|has exited/u);
    await oneShot.restart(instance.id);
    expect(await tokenOf(oneShot, instance.id)).toBe(token);
    const client = await httpClient(url, token);
    try {
      expect((await ok<{ id: string }>(client, "read", { instanceId: instance.id })).id).toBe(instance.id);
    } finally {
      await client.close();
    }
  });

  test("a second listener on the same port fails with a clear error; close() frees the port", async () => {
    const other = await s.startKernel({ watch: "on-demand", config: { plugins: [mcp({ port })] } });
    await expect(other.plugin<McpApi>("mcp")!.listen()).rejects.toThrow(new RegExp(`could not listen on 127.0.0.1:${port}.*Another program`, "u"));
    await serve.plugin<McpApi>("mcp")!.close();
    await serve.plugin<McpApi>("mcp")!.close();
    expect((await other.plugin<McpApi>("mcp")!.listen()).port).toBe(port);
    await other.close();
  });

  test("port 0 asks for listen() before spawning", async () => {
    const kernel = await s.startKernel({ watch: "on-demand", config: { plugins: [mcp({ port: 0 })] } });
    await expect(kernel.spawn({ role: "executive", workDir: s.workDir })).rejects.toThrow(/port 0 .*call listen\(\) before spawning/u);
    expect((await kernel.list()).every((i) => i.launch.env[MCP_TOKEN_ENV])).toBe(true);
  });
});

describe("health", () => {
  let s: Setup;
  beforeAll(async () => {
    s = await createSetup();
  });
  afterAll(async () => {
    await s?.close();
  });

  test("once listen() ran, kernel.health() has an mcp check: ok while the endpoint accepts connections, not ok after it closed", async () => {
    const port = await freePort();
    const kernel = await s.startKernel({ watch: "all", config: { plugins: [mcp({ port })] } });
    // Not asked to listen yet (a one-shot kernel never is): no mcp check.
    expect((await kernel.health()).checks.map((c) => c.name)).toEqual(["tmux", "store"]);
    await kernel.plugin<McpApi>("mcp")!.listen();
    const up = await kernel.health();
    expect(up.ok).toBe(true);
    expect(up.checks.find((c) => c.name === "mcp")).toEqual({ name: "mcp", ok: true, detail: `listening on 127.0.0.1:${port}` });
    await kernel.plugin<McpApi>("mcp")!.close();
    const down = await kernel.health();
    expect(down.ok).toBe(false);
    expect(down.checks.find((c) => c.name === "mcp")).toEqual({ name: "mcp", ok: false, detail: "the MCP endpoint is not listening" });
  });
});
