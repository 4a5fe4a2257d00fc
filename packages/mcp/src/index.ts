export { createToolServer, SERVER_NAME, VERSION } from "./tools.js";
export { ROOT, mayOrchestrate, type Caller } from "./caller.js";
export { serveStdio, type StdioOptions } from "./stdio.js";
export { mcp, mcpOptions, defaultPort, PLUGIN_NAME, PORT_RANGE, type McpApi, type McpListening, type McpOptions } from "./plugin.js";
export { withMcp } from "./config.js";
export { MCP_TOKEN_ENV, MCP_URL_ENV } from "./tokens.js";
export { McpErrorCodes } from "./errors.js";
