/**
 * A spawn returns once the agent is ready, and "ready" is then in the store:
 * another process reading the store right after (a CLI's list, a reuse that
 * looks for idle instances) sees the instance idle, not still starting.
 */
import { afterEach, expect, test } from "vitest";
import { createHarness, type Harness } from "@tmux-claude/testkit";
import { FileStore } from "../../src/store/file-store.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

test("right after spawn returns, another reader of the store sees the instance idle", async () => {
  h = await createHarness({}, { label: "ready-stored" });
  const other = new FileStore(h.stateDir);
  await other.init();
  try {
    for (let i = 0; i < 5; i++) {
      const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir });
      expect(instance.status).toBe("idle");
      expect((await other.get(instance.id))?.status).toBe("idle");
    }
  } finally {
    await other.close();
  }
}, 60_000);
