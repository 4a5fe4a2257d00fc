// The spawn tool refuses plugin options only a plugin's own code may pass:
// plugins.workflows ties an instance to a workflow run's task, and an agent
// passing it could take over a task of someone else's run.
import { afterAll, beforeAll, expect, test } from "vitest";
import type { Kernel } from "@tmux-claude/core";
import { createSetup, refused, rootClient, type Setup } from "./helpers.js";

let h: Setup;
let kernel: Kernel;
beforeAll(async () => {
  h = await createSetup();
  kernel = await h.startKernel();
});
afterAll(async () => {
  await kernel?.close();
  await h?.close();
});

test("spawn with plugins.workflows is a tool error naming the option and what to do instead; nothing is spawned", async () => {
  const { client, close } = await rootClient(kernel);
  try {
    const message = await refused(client, "spawn", { role: "executive", prompt: "x", plugins: { workflows: { run: "r", step: "impl", index: 0, token: "t" } } });
    expect(message).toContain(
      "plugins.workflows is reserved: the workflow engine sets it to tie an instance it spawns to a task of its run, and no spawn tool call may. Leave it out; to run a workflow, call run_workflow.",
    );
    expect(await kernel.list()).toEqual([]);
  } finally {
    await close();
  }
});
