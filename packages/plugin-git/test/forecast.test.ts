import { createHarness, eventually, type Harness } from "@tmux-claude/testkit";
import type { DeliveryEvent, Kernel } from "@tmux-claude/core";
import { afterEach, describe, expect, it } from "vitest";
import { git, type ConflictForecastEvent, type GitApi, type GitUserOptions } from "../src/index.js";
import { gitValue } from "../src/git/run.js";
import type { GitInstanceState } from "../src/types.js";
import { commitFiles, lines, makeRepo } from "./helpers.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const SHARED = lines("shared", 12);

/** A kernel with the git plugin (forecast debounced 50 ms), a repo, and every forecast event and delivered message recorded. */
async function start(options: GitUserOptions = {}) {
  const plugin = git({ forecast: { debounceMs: 50 }, ...options });
  h = await createHarness({ plugins: [plugin] }, { label: "git-fc" });
  const repo = await makeRepo(h.workDir, { "README.md": "hello\n", "shared.txt": SHARED });
  const api = plugin.api!;
  const events: ConflictForecastEvent[] = [];
  api.hooks.conflictForecast.tapPromise("test", async (event) => {
    events.push(event);
  });
  const delivered: DeliveryEvent[] = [];
  const record = (kernel: Kernel) => kernel.hooks.delivered.tapPromise("test", async (event) => void delivered.push(event));
  record(h.kernel);
  return { h, repo, api, events, delivered, record };
}

const forecastNotices = (delivered: readonly DeliveryEvent[], to: string) => delivered.filter((d) => d.message.instanceId === to && d.message.text.startsWith("git forecast:"));

async function stateOf(api: GitApi, id: string): Promise<GitInstanceState> {
  return (await api.status(id)) as GitInstanceState;
}

/** Wait until the stored forecast of `id` was made for the branch's current commit. */
async function forecastFor(api: GitApi, id: string) {
  const state = await stateOf(api, id);
  const head = await gitValue(state.worktree, ["rev-parse", "HEAD"]);
  return eventually(async () => {
    const forecast = await api.forecast.last(id);
    return forecast?.commit === head ? forecast : undefined;
  }, 15_000, `the forecast of ${id} at ${head}`);
}

describe("conflict forecasting", () => {
  it("tells the manager, once, that two of its specialists will conflict, before either merges; a third that does not conflict stays quiet", async () => {
    const { h, repo, api, events, delivered, record } = await start();
    const manager = (await h.kernel.spawn({ role: "manager", workDir: repo })).instance;
    const specs = [];
    for (let i = 0; i < 3; i++) specs.push((await h.kernel.spawn({ role: "specialist", parentId: manager.id, workDir: manager.workDir })).instance);
    const [s1, s2, s3] = specs as [(typeof specs)[0], (typeof specs)[0], (typeof specs)[0]];
    for (const s of specs) expect(await stateOf(api, s.id)).toMatchObject({ base: `tc/${manager.id}`, branch: `tc/${s.id}` });

    // Each commits in its own worktree, as an agent's `git commit` would: no turn end, the ref watch sees it.
    await commitFiles(s1.workDir, { "shared.txt": SHARED.replace("shared 6\n", "s1 says six\n") }, "s1: reword line 6");
    await commitFiles(s2.workDir, { "shared.txt": SHARED.replace("shared 6\n", "s2 says 6!\n") }, "s2: reword line 6");
    await commitFiles(s3.workDir, { "other.txt": "s3 alone\n", "shared.txt": SHARED.replace("shared 12\n", "s3 ends\n") }, "s3: its own file");

    const notice = await eventually(() => forecastNotices(delivered, manager.id)[0], 15_000, "the forecast message to the manager");
    expect(notice.message.text).toContain(`${s1.id} (branch tc/${s1.id})`);
    expect(notice.message.text).toContain(`${s2.id} (branch tc/${s2.id})`);
    expect(notice.message.text).toContain('"shared.txt" (content)');
    // The echo agent (the manager's agent) got it, as typed.
    expect((await h.received()).some((m) => m.text === notice.message.text)).toBe(true);

    await Promise.all(specs.map((s) => forecastFor(api, s.id)));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      between: "siblings",
      parentId: manager.id,
      instance: { id: s1.id, branch: `tc/${s1.id}`, commit: await gitValue(repo, ["rev-parse", `tc/${s1.id}`]) },
      other: { id: s2.id, branch: `tc/${s2.id}` },
      files: [expect.objectContaining({ path: "shared.txt", kind: "content", message: expect.stringContaining("Merge conflict in shared.txt") })],
      previous: [],
    });
    // Stored on both for git_status; the third conflicts with nobody, and everyone still merges into the manager's branch.
    expect((await api.forecast.last(s1.id))!.siblings).toEqual({ [s2.id]: { branch: `tc/${s2.id}`, commit: expect.any(String), files: [{ path: "shared.txt", kind: "content" }] } });
    expect(Object.keys((await api.forecast.last(s2.id))!.siblings)).toEqual([s1.id]);
    expect((await api.forecast.last(s3.id))!.siblings).toEqual({});
    for (const s of specs) expect((await api.forecast.last(s.id))!.target).toMatchObject({ branch: `tc/${manager.id}`, files: [] });
    // Nothing touched the manager's branch or worktree.
    expect(await gitValue(manager.workDir, ["status", "--porcelain"])).toBe("");
    expect(await gitValue(repo, ["rev-parse", `tc/${manager.id}`])).toBe((await stateOf(api, s1.id)).baseCommit);

    // The same conflict again (s1 commits elsewhere; an explicit check of s2): not announced again.
    await commitFiles(s1.workDir, { "s1-notes.txt": "more\n" }, "s1: notes");
    await forecastFor(api, s1.id);
    await api.forecast.check(s2.id);
    expect(events).toHaveLength(1);

    // A restarted kernel forecasts everything again and stays quiet about what it already told.
    await h.kernel.close();
    const again = await h.startKernel();
    record(again);
    const before = (await api.forecast.last(s2.id))!.at;
    await eventually(async () => (await api.forecast.last(s2.id))!.at !== before, 15_000, "the restarted kernel's forecast");
    await api.forecast.check(s1.id);
    expect(events).toHaveLength(1);
    expect(forecastNotices(delivered, manager.id)).toHaveLength(1);

    // The conflict changes (s2 now also deletes s3's file? no: adds a file s1 adds too): told again, naming the new set.
    await commitFiles(s1.workDir, { "both.txt": "from s1\n" }, "s1: both.txt");
    await commitFiles(s2.workDir, { "both.txt": "from s2\n" }, "s2: both.txt");
    await eventually(() => events.length === 2, 15_000, "the second forecast event");
    expect(events[1]!.files.map((f) => [f.path, f.kind]).sort()).toEqual([["both.txt", "add/add"], ["shared.txt", "content"]]);
    expect(events[1]!.previous).toEqual([{ path: "shared.txt", kind: "content" }]);
    await eventually(() => forecastNotices(delivered, manager.id).length === 2, 15_000, "the second message");
    expect(forecastNotices(delivered, manager.id)[1]!.message.text).toContain('"both.txt" (add/add)');
  });
});
