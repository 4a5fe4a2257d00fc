// Review findings on what a merge request may ask: a squash or rebase of work
// already merged is up to date (9), `into` names a branch, not a revision (13),
// and an agent cannot choose the verify command through MCP (6).
import { afterEach, describe, expect, it } from "vitest";
import { gitValue } from "../src/git/run.js";
import { mergeTool } from "../src/surfaces/merge-command.js";
import type { MergePart } from "../src/merge/call.js";
import { mergeFixture, statusOf, type MergeFixture } from "./merge-helpers.js";

let fx: MergeFixture | undefined;
afterEach(async () => {
  await fx?.cleanup();
  fx = undefined;
});

describe("merging what is already merged", () => {
  it("squash, squash, rebase, rebase of one branch: merged once, then up to date, and no empty commit (review 9)", async () => {
    fx = await mergeFixture({ "a.txt": "1\n" });
    await fx.branch("feat", { "a.txt": "2\n" });
    const start = await fx.head();
    const statuses = [];
    for (const strategy of ["squash", "squash", "rebase", "rebase"] as const) statuses.push((await fx.queue.run(fx.request("feat", { strategy, message: `${strategy} feat` }))).status);
    expect(statuses).toEqual(["merged", "up-to-date", "up-to-date", "up-to-date"]);
    expect(await gitValue(fx.repo, ["rev-list", "--count", `${start}..main`])).toBe("1");
    expect(await statusOf(fx.repo)).toBe("");
  });

  it("rebase twice: the second replays nothing; a branch with a new commit on top replays only that one", async () => {
    fx = await mergeFixture({ "a.txt": "1\n" });
    await fx.branch("feat", { "a.txt": "2\n" });
    const start = await fx.head();
    expect((await fx.queue.run(fx.request("feat", { strategy: "rebase" }))).status).toBe("merged");
    expect((await fx.queue.run(fx.request("feat", { strategy: "rebase" }))).status).toBe("up-to-date");
    const { commitFiles } = await import("./helpers.js");
    await commitFiles(`${fx.root}/wt/feat`, { "b.txt": "b\n" }, "feat: b");
    expect((await fx.queue.run(fx.request("feat", { strategy: "rebase" }))).status).toBe("merged");
    expect(await gitValue(fx.repo, ["log", "--format=%s", `${start}..main`])).toBe("feat: b\nfeat: change");
  });
});

describe("into names a branch", () => {
  it("a revision such as main~0 is refused as not a branch name (MERGE_INVALID), not retried as a moved target (review 13)", async () => {
    fx = await mergeFixture({ "a.txt": "1\n" });
    await fx.branch("feat", { "a.txt": "2\n" });
    const start = await fx.head();
    const outcome = await fx.queue.run(fx.request("feat", { target: "main~0" }));
    expect(outcome).toMatchObject({ status: "failed", code: "TC_GIT_MERGE_INVALID", reason: expect.stringContaining('"main~0" is not a branch name') });
    expect(await fx.head()).toBe(start);
    const missing = await fx.queue.run(fx.request("feat", { target: "nope" }));
    expect(missing).toMatchObject({ status: "failed", code: "TC_GIT_TARGET_MISSING", reason: expect.stringContaining("Branches: ") });
  });
});

describe("MCP merge", () => {
  it("takes no verify: an agent cannot run a host command through it (review 6)", async () => {
    const calls: unknown[] = [];
    const part: MergePart = {
      merge: async (id, call) => {
        calls.push({ id, call });
        throw new Error("not reached");
      },
      queue: async () => [],
    };
    const tool = mergeTool(part, ["manager", "specialist"]);
    const parsed = tool.inputSchema.safeParse({ instanceId: "w1", verify: ["sh", "-c", "touch /tmp/pwned"] });
    expect(parsed.success).toBe(false);
    await expect(tool.handler({ instanceId: "w1", verify: ["sh", "-c", "touch /tmp/pwned"] }, { instanceId: "mgr", role: "manager" } as never)).rejects.toThrow(/verify/u);
    expect(calls).toEqual([]);
    expect(JSON.stringify(tool.inputSchema.shape ?? {})).not.toContain("verify");
  });
});
