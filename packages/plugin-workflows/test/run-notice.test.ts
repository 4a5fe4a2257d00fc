// A finished run is a `run-finished` notice (ctx.notice) for notifiers such as plugin-notify: once per end, with the run's id.
import type { Notice } from "@tmux-claude/core";
import { afterEach, expect, test } from "vitest";
import { startRecorded, workflowHarness } from "./helpers.js";

let h: Awaited<ReturnType<typeof workflowHarness>> | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

test("a run that succeeds and one that fails each raise one run-finished notice naming the run, its outcome and its time", async () => {
  h = await workflowHarness("wf-notice");
  const notices: Notice[] = [];
  h.kernel.hooks.notice.tap("test", (notice) => void notices.push(notice));

  const ok = await startRecorded(h.api, `workflow: tidy\nsteps:\n  - id: lint\n    run: [node, -e, "process.exit(0)"]\n`, { workDir: h.workDir }).result;
  expect(ok.state).toBe("succeeded");
  const bad = await startRecorded(h.api, `workflow: broken\nsteps:\n  - id: check\n    run: [node, -e, "process.exit(3)"]\n`, { workDir: h.workDir }).result;
  expect(bad.state).toBe("failed");

  expect(notices).toHaveLength(2);
  const [first, second] = notices as [Notice, Notice];
  expect(first).toMatchObject({
    kind: "run-finished",
    source: "workflows",
    severity: "info",
    title: expect.stringMatching(new RegExp(`^Workflow run ${ok.id} \\(tidy\\) succeeded in \\d`, "u")),
    data: { run: ok.id, workflow: "tidy", state: "succeeded", journal: ok.journal },
  });
  expect(first.eventId).toMatch(new RegExp(`^run-finished-${ok.id}-\\d{4}-`, "u"));
  expect(second).toMatchObject({
    kind: "run-finished",
    severity: "error",
    title: expect.stringContaining(`Workflow run ${bad.id} (broken) failed at step check: `),
    data: { run: bad.id, workflow: "broken", state: "failed", failure: { step: "check" } },
  });
  expect(first.instanceId).toBeUndefined();
});
