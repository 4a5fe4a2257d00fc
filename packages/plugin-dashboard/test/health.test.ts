// `/health`: the kernel's checks, unauthenticated, 200 or 503, no instance data.
import { expect, test } from "vitest";
import { eventually } from "@tmux-claude/testkit";
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
