// One MCP tool call (`list`) round trip over Streamable HTTP and over stdio,
// each against the protocol floor: the same SDK and transport serving a no-op
// tool. Detects @tmux-claude/mcp (issue 4) and reports "pending" without it.
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { startKernel } from "../lib/setup.mjs";
import { pendingRow, timedRow, targets } from "../lib/rows.mjs";
import { ROOT, killServer, now } from "../lib/util.mjs";

const STDIO_SERVER = fileURLToPath(new URL("../lib/mcp-stdio-server.mjs", import.meta.url));
const PENDING = "the MCP package (issue 4)";

/** The built @tmux-claude/mcp, by package name or straight from packages/mcp/dist. */
async function loadMcp() {
  const errors = [];
  for (const spec of ["@tmux-claude/mcp", pathToFileURL(path.join(ROOT, "packages/mcp/dist/index.js")).href]) {
    try {
      const mod = await import(spec);
      const missing = ["createToolServer", "serveStdio", "mcp"].filter((name) => typeof mod[name] !== "function");
      if (missing.length) {
        errors.push(`${spec} has no ${missing.join(", ")}`);
        continue;
      }
      return { mod, spec };
    } catch (error) {
      errors.push(`${spec}: ${String(error?.message ?? error).split("\n")[0]}`);
    }
  }
  return { errors };
}

export async function mcp({ quick, log }) {
  const found = await loadMcp();
  if (!found.mod) {
    log(`mcp: pending (${found.errors.join("; ")})`);
    return [
      pendingRow({ id: "mcp-http", label: "MCP round trip, list (HTTP)", note: PENDING }),
      pendingRow({ id: "mcp-stdio", label: "MCP round trip, list (stdio)", note: PENDING }),
    ];
  }
  const { Client } = await import("@modelcontextprotocol/sdk/client/index.js");
  const { StreamableHTTPClientTransport } = await import("@modelcontextprotocol/sdk/client/streamableHttp.js");
  const { StdioClientTransport } = await import("@modelcontextprotocol/sdk/client/stdio.js");
  const { McpServer } = await import("@modelcontextprotocol/sdk/server/mcp.js");
  const { StreamableHTTPServerTransport } = await import("@modelcontextprotocol/sdk/server/streamableHttp.js");
  const { floorServer } = await import("../lib/mcp-floor.mjs");
  const zod = await import("zod");

  const iterations = quick ? 50 : 300;
  const warmup = 20;
  const { mod, spec } = found;
  const rows = [];
  const k = await startKernel({ label: "mcp", plugins: [mod.mcp({ port: 0 })] });
  const closers = [];
  try {
    const api = k.kernel.plugin("mcp");
    const { url } = await api.listen();
    // The caller: an executive (may orchestrate); the list it sees is itself.
    const { instance } = await k.kernel.spawn({ role: "executive", workDir: k.workDir });
    const token = (await k.kernel.get(instance.id)).launch.env.TMUX_CLAUDE_MCP_TOKEN;
    if (!token) throw new Error("the mcp plugin gave the instance no TMUX_CLAUDE_MCP_TOKEN");

    /** Round trips of `list` on two clients, interleaved (alternating order) so both see the same machine. */
    const roundTrips = async (a, b) => {
      await a.listTools(); // as a real client does; it also arms output-schema validation
      await b.listTools();
      const samples = [[], []];
      const one = async (client, into, measured) => {
        const t0 = now();
        const result = await client.callTool({ name: "list", arguments: {} });
        const t = now() - t0;
        if (result.isError) throw new Error(`list failed: ${JSON.stringify(result.content)}`);
        if (measured) into.push(t);
      };
      for (let i = 0; i < warmup + iterations; i++) {
        const measured = i >= warmup;
        if (i % 2) {
          await one(a, samples[0], measured);
          await one(b, samples[1], measured);
        } else {
          await one(b, samples[1], measured);
          await one(a, samples[0], measured);
        }
      }
      return samples;
    };

    // ---- HTTP: tmux-claude's endpoint vs a bare SDK server on Streamable HTTP, both in this process.
    const httpClient = new Client({ name: "bench", version: "0.0.0" });
    await httpClient.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
    closers.push(() => httpClient.close());
    const floorHttp = await bareHttpServer({ McpServer, StreamableHTTPServerTransport, floorServer, zod });
    closers.push(() => floorHttp.close());
    const floorClient = new Client({ name: "bench-floor", version: "0.0.0" });
    await floorClient.connect(new StreamableHTTPClientTransport(new URL(floorHttp.url)));
    closers.push(() => floorClient.close());
    const [httpK, httpF] = await roundTrips(httpClient, floorClient);
    log(`mcp: http ${iterations} round trips done`);
    rows.push(
      timedRow({
        id: "mcp-http",
        label: "MCP round trip, list (HTTP)",
        samples: httpK,
        floor: httpF,
        floorLabel: "same SDK client and transport, bare McpServer with a no-op list tool",
        target: targets.atMost(3, "ms"),
        note: `client and server in one process; caller authenticated by bearer token; ${spec}`,
      }),
    );

    // ---- stdio: tmux-claude's serveStdio in a child process vs a bare SDK server in a child process.
    const configFile = path.join(k.dir, "stdio-config.json");
    const { plugins: _p, ...userConfig } = k.userConfig;
    writeFileSync(configFile, JSON.stringify({ ...userConfig, logLevel: "error" }));
    const env = { ...process.env, BENCH_MCP_MODULE: spec };
    const stdioClient = new Client({ name: "bench", version: "0.0.0" });
    await stdioClient.connect(new StdioClientTransport({ command: process.execPath, args: [STDIO_SERVER, "kernel", configFile], env, stderr: "inherit" }));
    closers.push(() => stdioClient.close());
    const stdioFloor = new Client({ name: "bench-floor", version: "0.0.0" });
    await stdioFloor.connect(new StdioClientTransport({ command: process.execPath, args: [STDIO_SERVER, "floor"], env, stderr: "inherit" }));
    closers.push(() => stdioFloor.close());
    const [stdioK, stdioF] = await roundTrips(stdioClient, stdioFloor);
    log(`mcp: stdio ${iterations} round trips done`);
    rows.push(
      timedRow({
        id: "mcp-stdio",
        label: "MCP round trip, list (stdio)",
        samples: stdioK,
        floor: stdioF,
        floorLabel: "same SDK client and transport, bare McpServer (child process) with a no-op list tool",
        target: targets.atMost(3, "ms"),
        note: "server in a child process (serveStdio, root caller) as `tmux-claude mcp` runs it",
      }),
    );
  } finally {
    for (const close of closers.reverse()) await Promise.resolve().then(close).catch(() => undefined);
    await k.close();
    await killServer(k.socket);
  }
  return rows;
}

/** A bare SDK server over Streamable HTTP (stateful sessions, as tmux-claude's endpoint). */
async function bareHttpServer({ McpServer, StreamableHTTPServerTransport, floorServer, zod }) {
  const { randomUUID } = await import("node:crypto");
  const transports = new Map();
  const http = createServer(async (req, res) => {
    const id = req.headers["mcp-session-id"];
    let transport = typeof id === "string" ? transports.get(id) : undefined;
    if (!transport) {
      transport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), onsessioninitialized: (sid) => transports.set(sid, transport) });
      await floorServer(McpServer, zod).connect(transport);
    }
    await transport.handleRequest(req, res);
  });
  await new Promise((resolve) => http.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${http.address().port}/mcp`,
    close: async () => {
      for (const t of transports.values()) await t.close().catch(() => undefined);
      await new Promise((resolve) => {
        http.close(resolve);
        http.closeAllConnections();
      });
    },
  };
}
