// A store that refuses the run's writes mid-run (a full disk, a lost Redis):
// the run fails naming the step and the store's error, what it spawned is
// terminated, and its journal ends with run-finished; it never "succeeds".
import { readFile } from "node:fs/promises";
import { afterEach, expect, test } from "vitest";
import { parseWorkflow, type JournalEvent } from "../src/index.js";
import { ofType, workflowHarness } from "./helpers.js";
import { ScriptedStore } from "./scripted-store.js";

let h: Awaited<ReturnType<typeof workflowHarness>> | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

test("writes refused once a step finished: the next step fails with the store's error, the run fails, its instance is terminated, run-finished is journaled", async () => {
  const store = new ScriptedStore();
  h = await workflowHarness("wf-store-fails", { plugins: [store.plugin()] });
  const workflow = parseWorkflow("workflow: fragile\nsteps:\n  - id: worker\n    spawn: specialist\n    prompt: go\n  - id: check\n    run: [node, -e, \"\"]\n", "fragile.yaml");
  const events: JournalEvent[] = [];
  const onEvent = (e: JournalEvent) => {
    events.push(e);
    // From here on the store refuses every write of the run's state.
    if (e.type === "step-finished" && e.step === "worker") store.refuses = () => true;
  };
  const result = await h.api.run({ workflow, workDir: h.workDir, onEvent });
  store.refuses = undefined;
  expect(store.refused).toBeGreaterThan(0);
  expect(result).toMatchObject({ state: "failed", failure: { step: "check", reason: "ENOSPC: no space left on device (scripted)" } });
  const worker = ofType(events, "spawned")[0]!.instanceId;
  expect((await h.kernel.list()).map((i) => i.id)).not.toContain(worker);
  const journal = (await readFile(result.journal, "utf8")).trim().split("\n").map((line) => JSON.parse(line) as JournalEvent);
  expect(journal.at(-1)).toMatchObject({ type: "run-finished", state: "failed", failure: { step: "check" } });
  expect(ofType(journal, "step-finished").filter((e) => e.step === "check")).toMatchObject([{ state: "failed", reason: "ENOSPC: no space left on device (scripted)" }]);
});
