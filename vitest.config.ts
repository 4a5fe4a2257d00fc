import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests drive real tmux servers; two cores do not gain from more workers.
    maxWorkers: 2,
  },
});
