import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const source = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // In-process code of tests runs from the workspace packages' sources: one copy of the kernel
    // (core's own tests, the testkit harness and the plugins under test all load the same module),
    // and no build between editing and testing. Child processes (the CLI's bin, fixtures) use dist.
    alias: [
      { find: /^@tmux-claude\/core$/u, replacement: source("core") },
      { find: /^@tmux-claude\/testkit$/u, replacement: source("testkit") },
      { find: /^@tmux-claude\/agent-claude$/u, replacement: source("agent-claude") },
      { find: /^@tmux-claude\/mcp$/u, replacement: source("mcp") },
      { find: /^@tmux-claude\/plugin-git$/u, replacement: source("plugin-git") },
      { find: /^@tmux-claude\/plugin-dashboard$/u, replacement: source("plugin-dashboard") },
      { find: /^@tmux-claude\/plugin-redis$/u, replacement: source("plugin-redis") },
      { find: /^@tmux-claude\/plugin-workflows$/u, replacement: source("plugin-workflows") },
      { find: /^@tmux-claude\/plugin-notify$/u, replacement: source("plugin-notify") },
      { find: /^@tmux-claude\/plugin-audit$/u, replacement: source("plugin-audit") },
      { find: /^@tmux-claude\/plugin-supervisor$/u, replacement: source("plugin-supervisor") },
      { find: /^@tmux-claude\/plugin-cost$/u, replacement: source("plugin-cost") },
      { find: /^@tmux-claude\/plugin-knowledge$/u, replacement: source("plugin-knowledge") },
    ],
  },
  test: {
    include: ["packages/*/test/**/*.test.ts"],
    // Names this run's tmux sockets and removes their servers and clients at the end, even after failures.
    globalSetup: ["packages/testkit/src/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests drive real tmux servers; two cores do not gain from more workers.
    maxWorkers: 2,
  },
});
