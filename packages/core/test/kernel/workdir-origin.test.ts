import { mkdir } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import type { LaunchContext, Plugin } from "../../src/index.js";
import { commandAdapter } from "../../src/index.js";
import { createHarness, ECHO_AGENT, type Harness } from "@tmux-claude/testkit";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("workDirOrigin: where a spawn asked to work, when a plugin moved it", () => {
  test("recorded on the record and given to the adapter when beforeSpawn moves the workDir, kept by a restart, unset otherwise", async () => {
    const launches: LaunchContext[] = [];
    // Moves spawns asked for `<work>/move-me` into a directory of its own, as the git plugin moves them into a worktree.
    const mover: Plugin = {
      name: "mover",
      apply(ctx) {
        ctx.hooks.beforeSpawn.tapPromise(async (plan) => {
          if (path.basename(plan.workDir) !== "move-me") return plan;
          const moved = path.join(path.dirname(plan.workDir), `moved-${plan.id}`);
          await mkdir(moved, { recursive: true });
          return { ...plan, workDir: moved };
        });
        ctx.registerAdapter({ ...commandAdapter, name: "recording", launch: (launch) => (launches.push(launch), commandAdapter.launch(launch)) });
      },
    };
    h = await createHarness({ plugins: [mover] }, { label: "origin" });
    const agent = { adapter: "recording", command: process.execPath, args: [ECHO_AGENT], env: { ECHO_AGENT_LOG: h.log } };
    const kernel = await h.startKernel({ config: { plugins: [mover], agents: { ...h.userConfig.agents, echo: agent } } });
    const asked = path.join(h.workDir, "move-me");
    await mkdir(asked);

    const moved = (await kernel.spawn({ role: "executive", workDir: asked })).instance;
    expect(moved.workDir).toBe(path.join(h.workDir, `moved-${moved.id}`));
    expect(moved.workDirOrigin).toBe(asked);
    expect(launches.at(-1)).toMatchObject({ workDir: moved.workDir, workDirOrigin: asked });

    const restarted = await kernel.restart(moved.id);
    expect(restarted.workDirOrigin).toBe(asked);
    expect(launches.at(-1)).toMatchObject({ workDir: moved.workDir, workDirOrigin: asked });

    const stayed = (await kernel.spawn({ role: "executive", workDir: h.workDir })).instance;
    expect(stayed.workDir).toBe(h.workDir);
    expect(stayed.workDirOrigin).toBeUndefined();
    expect(launches.at(-1)!.workDirOrigin).toBeUndefined();
  });
});
