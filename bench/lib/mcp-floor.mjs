// The MCP protocol floor: the same SDK, one "list" tool that does nothing but answer.
export function floorServer(McpServer, { z }) {
  const server = new McpServer({ name: "floor", version: "0.0.0" });
  server.registerTool(
    "list",
    { description: "no-op", inputSchema: {}, outputSchema: { instances: z.array(z.object({ id: z.string() })) } },
    async () => ({ content: [{ type: "text", text: "[]" }], structuredContent: { instances: [] } }),
  );
  return server;
}
