// The stdio side of the MCP round-trip benchmark, in its own process as a
// person's MCP client would start it (`tmux-claude mcp`).
//   node mcp-stdio-server.mjs kernel <config.json>   tmux-claude's tools (serveStdio, root caller)
//   node mcp-stdio-server.mjs floor                  a bare SDK McpServer with one no-op "list" tool
import { readFileSync } from "node:fs";
import { floorServer } from "./mcp-floor.mjs";

const [mode, configFile] = process.argv.slice(2);

if (mode === "floor") {
  const { McpServer } = await import("@modelcontextprotocol/sdk/server/mcp.js");
  const { StdioServerTransport } = await import("@modelcontextprotocol/sdk/server/stdio.js");
  const server = floorServer(McpServer, await import("zod"));
  await server.connect(new StdioServerTransport());
} else {
  const { Kernel, configSchema, createLogger } = await import("@tmux-claude/core");
  const { serveStdio } = await import(process.env.BENCH_MCP_MODULE || "@tmux-claude/mcp");
  const config = configSchema.parse(JSON.parse(readFileSync(configFile, "utf8")));
  const kernel = await Kernel.start({ config, watch: "on-demand", logger: createLogger("error") });
  try {
    await serveStdio(kernel);
  } finally {
    await kernel.close();
  }
}
