// `/health`: the kernel's checks, unauthenticated, 200 or 503, no instance data.
import { expect, test } from "vitest";
import { eventually } from "@tmux-claude/testkit";
import type { Plugin } from "@tmux-claude/core";
import type { HealthBody } from "../src/protocol.js";
import { startDashboard } from "./helpers.js";

function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

test("/health is 200 with tmux and store checks, 503 after the tmux server is killed, 200 once it is back", async () => {
  const env = await startDashboard();
  try {
    const { instance } = await env.harness.kernel.spawn({ role: "specialist", workDir: env.harness.workDir, name: "secret-name" });
    const health = async () => {
      const response = await fetch(`${env.origin}/health`);
      return { status: response.status, body: (await response.json()) as HealthBody, cache: response.headers.get("cache-control") };
    };
    const up = await health();
    expect(up.status, JSON.stringify(up.body)).toBe(200);
    expect(up.body.ok).toBe(true);
    expect(up.cache).toBe("no-store");
    expect(up.body.checks.map((check) => check.name)).toEqual(expect.arrayContaining(["tmux", "store"]));
    expect(JSON.stringify(up.body)).not.toContain(instance.id);
    expect(JSON.stringify(up.body)).not.toContain("secret-name");

    await env.harness.tmux("kill-server");
    const down = await eventually(async () => {
      const result = await health();
      return result.status === 503 ? result : undefined;
    }, 10_000, "/health to turn 503");
    expect(down.body.ok).toBe(false);
    expect(down.body.checks.find((check) => check.name === "tmux")).toMatchObject({ ok: false });

    // The next operation starts a tmux server again (bounded here, so a hang names itself instead of the test's timeout).
    await within(20_000, "a spawn after the tmux server was killed", env.harness.kernel.spawn({ role: "specialist", workDir: env.harness.workDir }));
    const back = await eventually(async () => {
      const result = await health();
      return result.status === 200 ? result : undefined;
    }, 10_000, "/health to turn 200 again");
    expect(back.body.ok).toBe(true);
  } finally {
    await within(20_000, "closing the harness", env.close());
  }
}, 90_000);

test("/health shares one run among concurrent requests and reuses its report for about a second", async () => {
  // A plugin check that counts its runs and finishes only when released: the requests below all arrive during one run.
  let runs = 0;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const counter: Plugin = {
    name: "health-counter",
    kernel: "^0.1.0",
    apply(ctx) {
      ctx.hooks.health.tapPromise(async (checks) => [
        ...checks,
        { name: "counter", check: async () => (runs++, await released, { ok: true, detail: `run ${runs}` }) },
      ]);
    },
  };
  const env = await startDashboard({ plugins: [counter] });
  try {
    const ask = () => fetch(`${env.origin}/health`).then(async (response) => ({ status: response.status, body: (await response.json()) as HealthBody }));
    const concurrent = Array.from({ length: 20 }, ask);
    await eventually(() => runs === 1, 5_000, "the first run to start");
    release();
    const answers = await Promise.all(concurrent);
    expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(200));
    expect(runs).toBe(1);
    // Right after: the same report, no new run.
    expect((await ask()).body.checks.find((check) => check.name === "counter")?.detail).toBe("run 1");
    expect(runs).toBe(1);
    // Later: a fresh run.
    await eventually(async () => (await ask()).body.checks.find((check) => check.name === "counter")?.detail === "run 2", 5_000, "a second run after the reuse window");
  } finally {
    await within(20_000, "closing the harness", env.close());
  }
}, 60_000);
