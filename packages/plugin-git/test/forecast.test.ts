import { createHarness, eventually, type Harness } from "@tmux-claude/testkit";
import type { DeliveryEvent, Kernel } from "@tmux-claude/core";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { git, type ConflictForecastEvent, type GitApi, type GitUserOptions } from "../src/index.js";
import { gitValue } from "../src/git/run.js";
import type { GitInstanceState } from "../src/types.js";
import { resolveCommits } from "../src/forecast/pairs.js";
import { commitFiles, commitOn, lines, makeRepo } from "./helpers.js";

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

    // The conflict changes (both now add the same new file too): told again, naming the new set.
    await commitFiles(s1.workDir, { "both.txt": "from s1\n" }, "s1: both.txt");
    await commitFiles(s2.workDir, { "both.txt": "from s2\n" }, "s2: both.txt");
    await eventually(() => events.length === 2, 15_000, "the second forecast event");
    expect(events[1]!.files.map((f) => [f.path, f.kind]).sort()).toEqual([["both.txt", "add/add"], ["shared.txt", "content"]]);
    expect(events[1]!.previous).toEqual([{ path: "shared.txt", kind: "content" }]);
    await eventually(() => forecastNotices(delivered, manager.id).length === 2, 15_000, "the second message");
    expect(forecastNotices(delivered, manager.id)[1]!.message.text).toContain('"both.txt" (add/add)');

    // A terminated sibling leaves the other's forecast: git_status shows no conflict with an instance that is gone.
    await again.terminate(s2.id);
    await eventually(async () => Object.keys((await api.forecast.last(s1.id))!.siblings).length === 0, 15_000, "s1's forecast without s2");
    expect(events).toHaveLength(2);
  });

  it("in a one-shot process (no ref watch), a turn end's auto-commit triggers the forecast; top-level instances conflicting get an event and no message", async () => {
    const plugin = git({ forecast: { debounceMs: 50 }, autoCommit: true });
    h = await createHarness({ plugins: [plugin] }, { label: "git-fc", watch: "on-demand" });
    const repo = await makeRepo(h.workDir, { "shared.txt": SHARED });
    const events: ConflictForecastEvent[] = [];
    plugin.api!.hooks.conflictForecast.tapPromise("test", async (event) => void events.push(event));
    const sent: string[] = [];
    h.kernel.hooks.afterSend.tapPromise("test", async (message) => void sent.push(message.text));
    const a = (await h.kernel.spawn({ role: "specialist", workDir: repo })).instance;
    const b = (await h.kernel.spawn({ role: "specialist", workDir: repo })).instance;
    await writeFile(path.join(a.workDir, "shared.txt"), SHARED.replace("shared 3\n", "a three\n"));
    await writeFile(path.join(b.workDir, "shared.txt"), SHARED.replace("shared 3\n", "b three\n"));
    // Nothing is committed yet: no forecast can see the edits.
    expect(events).toEqual([]);
    for (const id of [a.id, b.id]) {
      await h.kernel.send(id, "do the work");
      await h.kernel.read(id, { wait: true, timeoutMs: 10_000 });
    }
    const event = await eventually(() => events[0], 15_000, "the forecast event after the turns' auto-commits");
    expect(event).toMatchObject({ between: "siblings", parentId: null, files: [expect.objectContaining({ path: "shared.txt", kind: "content" })] });
    expect(new Set([event.instance.id, event.other.id])).toEqual(new Set([a.id, b.id]));
    // The commits were the turn's auto-commits.
    expect(await gitValue(repo, ["log", "-1", "--format=%s", `tc/${a.id}`])).toBe(`${a.id}: do the work`);
    // Nobody to tell: the only messages sent are the test's own.
    expect(sent).toEqual(["do the work", "do the work"]);
    await plugin.api!.forecast.check(a.id);
    expect(events).toHaveLength(1);
  });

  it("tells the manager when its own commit makes a child's branch stop merging into it", async () => {
    const { h, repo, api, events, delivered } = await start();
    const manager = (await h.kernel.spawn({ role: "manager", workDir: repo })).instance;
    const child = (await h.kernel.spawn({ role: "specialist", parentId: manager.id, workDir: manager.workDir })).instance;
    await commitFiles(child.workDir, { "shared.txt": SHARED.replace("shared 9\n", "child nine\n") }, "child: line 9");
    await forecastFor(api, child.id);
    expect(events).toEqual([]);
    await commitFiles(manager.workDir, { "shared.txt": SHARED.replace("shared 9\n", "manager nine\n") }, "manager: line 9 too");
    const event = await eventually(() => events[0], 15_000, "the target forecast");
    expect(event).toMatchObject({
      between: "target",
      parentId: manager.id,
      instance: { id: child.id, branch: `tc/${child.id}` },
      other: { id: manager.id, branch: `tc/${manager.id}`, commit: await gitValue(manager.workDir, ["rev-parse", "HEAD"]) },
      files: [expect.objectContaining({ path: "shared.txt", kind: "content" })],
    });
    const notice = await eventually(() => forecastNotices(delivered, manager.id)[0], 15_000, "the message to the manager");
    expect(notice.message.text).toContain(`tc/${child.id} no longer merges cleanly into tc/${manager.id}`);
    expect((await api.forecast.last(child.id))!.target.files).toEqual([{ path: "shared.txt", kind: "content" }]);
  });

  it("a one-shot process and serve forecasting the same pair at once announce it once", async () => {
    const { h, repo, api, events, delivered, record } = await start();
    // A second kernel on the same store and socket, as the CLI would be, with its own git plugin.
    const cliPlugin = git({ forecast: { debounceMs: 50 } });
    const cli = await h.startKernel({ watch: "on-demand", config: { plugins: [cliPlugin] } });
    record(cli);
    cliPlugin.api!.hooks.conflictForecast.tapPromise("test", async (event) => void events.push(event));
    const manager = (await h.kernel.spawn({ role: "manager", workDir: repo })).instance;
    const s1 = (await h.kernel.spawn({ role: "specialist", parentId: manager.id, workDir: manager.workDir })).instance;
    const s2 = (await cli.spawn({ role: "specialist", parentId: manager.id, workDir: manager.workDir })).instance;
    await commitFiles(s1.workDir, { "shared.txt": SHARED.replace("shared 2\n", "one\n") }, "s1");
    await commitFiles(s2.workDir, { "shared.txt": SHARED.replace("shared 2\n", "two\n") }, "s2");
    // Both processes forecast both branches at the same moment.
    await Promise.all([api.forecast.check(s1.id), cliPlugin.api!.forecast.check(s2.id), api.forecast.check(s2.id), cliPlugin.api!.forecast.check(s1.id)]);
    await eventually(() => forecastNotices(delivered, manager.id).length >= 1, 15_000, "the message to the manager");
    await Promise.all([forecastFor(api, s1.id), forecastFor(api, s2.id)]);
    expect(events).toHaveLength(1);
    expect(forecastNotices(delivered, manager.id)).toHaveLength(1);
  });

  it("notifyParent: false fires the event and sends the parent nothing", async () => {
    const { h, repo, api, events, delivered } = await start({ forecast: { debounceMs: 50, notifyParent: false } });
    // beforeSend runs inside send, which the forecaster awaits before it fires the event.
    const sent: string[] = [];
    h.kernel.hooks.beforeSend.tapPromise("test", async (message) => {
      sent.push(message.text);
      return message;
    });
    const manager = (await h.kernel.spawn({ role: "manager", workDir: repo })).instance;
    const a = (await h.kernel.spawn({ role: "specialist", parentId: manager.id, workDir: manager.workDir })).instance;
    const b = (await h.kernel.spawn({ role: "specialist", parentId: manager.id, workDir: manager.workDir })).instance;
    await commitFiles(a.workDir, { "shared.txt": SHARED.replace("shared 4\n", "a\n") }, "a");
    await commitFiles(b.workDir, { "shared.txt": SHARED.replace("shared 4\n", "b\n") }, "b");
    await eventually(() => events[0], 15_000, "the forecast event");
    expect(events[0]).toMatchObject({ between: "siblings", parentId: manager.id });
    expect(sent).toEqual([]);
    expect(forecastNotices(delivered, manager.id)).toEqual([]);
  });

  it("refuses bad forecast options with one error naming each option", () => {
    expect(() => git({ forecast: { debounceMs: -5, notifyParent: "yes" as unknown as boolean } })).toThrow(
      expect.objectContaining({ code: "TC_PLUGIN_OPTIONS_INVALID", message: expect.stringMatching(/forecast\.debounceMs.*forecast\.notifyParent/su) }),
    );
    expect(() => git({ forecast: { every: 5 } as never })).toThrow(/forecast/u);
  });

  it("resolves every branch's commit in one rev-parse, and the rest when one is gone", async () => {
    const repo = await makeRepo(await mkdtemp(path.join(os.tmpdir(), "tc-git-fc-refs-")), { "a.txt": "a\n" });
    try {
      const main = await gitValue(repo, ["rev-parse", "main"]);
      const side = await commitOn(repo, "tc/side", { "b.txt": "b\n" }, { from: "main" });
      expect(await resolveCommits(repo, ["main", "tc/side", "main"])).toEqual(new Map([["main", main], ["tc/side", side]]));
      expect(await resolveCommits(repo, ["main", "tc/gone", "tc/side"])).toEqual(new Map([["main", main], ["tc/side", side]]));
    } finally {
      await rm(repo, { recursive: true, force: true });
    }
  });
});
