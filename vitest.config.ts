import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts"],
    // Names this run's tmux sockets and removes their servers and clients at the end, even after failures.
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests drive real tmux servers; two cores do not gain from more workers.
    maxWorkers: 2,
  },
});
