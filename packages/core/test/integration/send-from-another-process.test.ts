// A one-shot kernel (the CLI) sends to an instance serve watches. The CLI
// records "busy" at its receipt; with a fast agent serve may have seen the
// turn end before that write arrives. Serve adopts the newer status, then
// its driver looks again: the instance must not stay busy with its prompt
// back (a dashboard showed it busy, and serve queued later messages forever).
import { afterAll, beforeAll, expect, test } from "vitest";
import { createHarness, eventually, type Harness } from "@tmux-claude/testkit";

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ limits: { spawnTimeout: 10_000, sendTimeout: 5_000 } }, { watch: "all" });
});
afterAll(async () => {
  await h?.close();
});

test("after sends from another process, serve sees the agent idle again and delivers what it sends itself", async () => {
  const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir });
  await h.kernel.read(instance.id, { wait: true });
  for (let round = 0; round < 6; round++) {
    const cli = await h.startKernel({ watch: "on-demand" });
    expect((await cli.send(instance.id, `from the CLI ${round}`)).state).toBe("delivered");
    await cli.close();
    await eventually(async () => (await h.kernel.get(instance.id)).status === "idle", 3_000, `serve sees idle after CLI send ${round}`);
  }
  // Serve's own send is typed in (or queued and delivered), not left behind a status nobody will change.
  const receipt = await h.kernel.send(instance.id, "from serve");
  if (receipt.state === "queued") await h.kernel.waitDelivered(receipt, 5_000);
  await eventually(async () => (await h.received()).some((m) => m.text === "from serve"), 5_000, "serve's message delivered");
});
