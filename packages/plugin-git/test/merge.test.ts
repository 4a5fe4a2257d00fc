import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { gitValue } from "../src/git/run.js";
import { mergeTree } from "../src/forecast/merge-tree.js";
import { verifyArgv } from "../src/merge/verify.js";
import { worktreePaths } from "./helpers.js";
import { mergeFixture, statusOf, type MergeFixture } from "./merge-helpers.js";

let fx: MergeFixture;
beforeEach(async () => {
  fx = await mergeFixture();
});
afterEach(async () => {
  await fx.cleanup();
});

describe("merge into a checked-out target", () => {
  it("a clean merge moves main and its worktree to a merge commit of the merged tree", async () => {
    const feature = await fx.branch("feat", { "b.txt": "new file\n" });
    const before = await fx.head();
    const expected = await mergeTree(fx.repo, before, feature);
    const outcome = await fx.queue.run(fx.request("feat"));
    expect(outcome.status).toBe("merged");
    const after = await fx.head();
    expect(after).toBe(outcome.commit);
    expect((await gitValue(fx.repo, ["rev-list", "--parents", "-n1", after])).split(" ").slice(1)).toEqual([before, feature]);
    expect(await gitValue(fx.repo, ["rev-parse", `${after}^{tree}`])).toBe(expected.tree);
    expect(await readFile(path.join(fx.repo, "b.txt"), "utf8")).toBe("new file\n");
    expect(await statusOf(fx.repo)).toBe("");
  });

  it("a conflict reports the file and its hunk and leaves main's branch and worktree untouched", async () => {
    await fx.branch("left", { "a.txt": "one\nLEFT\nthree\n" });
    await fx.branch("right", { "a.txt": "one\nRIGHT\nthree\n" });
    expect((await fx.queue.run(fx.request("left"))).status).toBe("merged");
    const before = await fx.head();
    const outcome = await fx.queue.run(fx.request("right"));
    expect(outcome.status).toBe("conflict");
    expect(outcome.code).toBe("TC_GIT_MERGE_CONFLICT");
    expect(outcome.conflicts?.map((c) => [c.path, c.kind])).toEqual([["a.txt", "content"]]);
    expect(outcome.conflicts?.[0]?.hunks).toMatch(/<<<<<<< [^\n]*\n(?:.*\n)*?LEFT\n=======\nRIGHT\n>>>>>>> /u);
    expect(outcome.reason).toContain("a.txt");
    expect(outcome.reason).toContain("or merge with --resolve ai (API: resolve: \"ai\").");
    expect(await fx.head()).toBe(before);
    expect(await readFile(path.join(fx.repo, "a.txt"), "utf8")).toBe("one\nLEFT\nthree\n");
    expect(await statusOf(fx.repo)).toBe("");
  });

  it("a dirty target worktree is refused with the dirty file named, and keeps its work", async () => {
    await fx.branch("feat", { "b.txt": "new\n" });
    await writeFile(path.join(fx.repo, "a.txt"), "uncommitted work\n");
    const before = await fx.head();
    const outcome = await fx.queue.run(fx.request("feat"));
    expect(outcome.status).toBe("refused");
    expect(outcome.code).toBe("TC_GIT_TARGET_DIRTY");
    expect(outcome.reason).toContain("a.txt");
    expect(outcome.reason).toContain(fx.repo);
    expect(await fx.head()).toBe(before);
    expect(await readFile(path.join(fx.repo, "a.txt"), "utf8")).toBe("uncommitted work\n");
  });

  it("an untracked file where the merge adds one is refused; an unrelated untracked file is not", async () => {
    await fx.branch("feat", { "b.txt": "from the branch\n" });
    await writeFile(path.join(fx.repo, "b.txt"), "user's own\n");
    const refused = await fx.queue.run(fx.request("feat"));
    expect(refused.status).toBe("refused");
    expect(refused.reason).toContain("b.txt");
    expect(await readFile(path.join(fx.repo, "b.txt"), "utf8")).toBe("user's own\n");
    await writeFile(path.join(fx.repo, "notes.txt"), "unrelated\n");
    await (await import("node:fs/promises")).rm(path.join(fx.repo, "b.txt"));
    expect((await fx.queue.run(fx.request("feat"))).status).toBe("merged");
    expect(await readFile(path.join(fx.repo, "notes.txt"), "utf8")).toBe("unrelated\n");
  });

  it("a merge into a branch checked out in another worktree moves that worktree", async () => {
    await fx.branch("manager", { "m.txt": "manager\n" });
    await fx.branch("spec", { "s.txt": "spec\n" }, "manager");
    const managerTree = path.join(fx.root, "wt", "manager");
    const outcome = await fx.queue.run(fx.request("spec", { target: "manager" }));
    expect(outcome.status).toBe("merged");
    expect(await readFile(path.join(managerTree, "s.txt"), "utf8")).toBe("spec\n");
    expect(await statusOf(managerTree)).toBe("");
  });

  it("squash makes one commit with one parent; rebase replays each commit with its author", async () => {
    await fx.branch("sq", { "b.txt": "b\n" });
    const before = await fx.head();
    const squashed = await fx.queue.run(fx.request("sq", { strategy: "squash" }));
    expect(squashed.status).toBe("merged");
    expect((await gitValue(fx.repo, ["rev-list", "--parents", "-n1", "main"])).split(" ").slice(1)).toEqual([before]);

    const picks = await fx.branch("rb", { "c.txt": "c\n" }, before);
    const { commitFiles } = await import("./helpers.js");
    await commitFiles(path.join(fx.root, "wt", "rb"), { "d.txt": "d\n" }, "rb: second");
    const onto = await fx.head();
    const rebased = await fx.queue.run(fx.request("rb", { strategy: "rebase" }));
    expect(rebased.reason ?? rebased.status).toBe("merged");
    expect(await gitValue(fx.repo, ["log", "--format=%s|%an", `${onto}..main`])).toBe("rb: second|Test\nrb: change|Test");
    expect(await gitValue(fx.repo, ["rev-list", "--merges", `${onto}..main`])).toBe("");
    expect(await gitValue(fx.repo, ["rev-parse", `main~2`])).toBe(onto);
    expect(picks).not.toBe(await gitValue(fx.repo, ["rev-parse", "main~1"]));
    for (const file of ["b.txt", "c.txt", "d.txt"]) await readFile(path.join(fx.repo, file), "utf8");
    expect(await statusOf(fx.repo)).toBe("");
  });

  it("rebase stops at the commit that conflicts and moves nothing", async () => {
    await fx.branch("left", { "a.txt": "one\nLEFT\nthree\n" });
    await fx.branch("right", { "a.txt": "one\nRIGHT\nthree\n" });
    await fx.queue.run(fx.request("left"));
    const before = await fx.head();
    const outcome = await fx.queue.run(fx.request("right", { strategy: "rebase" }));
    expect(outcome.status).toBe("conflict");
    expect(outcome.conflicts?.[0]?.path).toBe("a.txt");
    expect(await fx.head()).toBe(before);
  });

  it("verify runs on the merged result in a scratch worktree: a failure leaves main untouched, a pass merges", async () => {
    await fx.branch("bad", { "bad.txt": "fails the check\n" });
    await fx.branch("good", { "good.txt": "passes\n" });
    const check = ["node", "-e", "process.exit(require('fs').existsSync('bad.txt') ? 3 : require('fs').existsSync('good.txt') ? 0 : 4)"];
    const before = await fx.head();
    const failed = await fx.queue.run(fx.request("bad", { verify: check }));
    expect(failed.status).toBe("verify-failed");
    expect(failed.verify?.code).toBe(3);
    expect(await fx.head()).toBe(before);
    const passed = await fx.queue.run(fx.request("good", { verify: check }));
    expect(passed.status).toBe("merged");
    expect(passed.verify?.ok).toBe(true);
    // The scratch worktrees are gone.
    expect(await worktreePaths(fx.repo)).toEqual([fx.repo, ...["bad", "good"].map((b) => path.join(fx.root, "wt", b))].map((p) => p));
  });

  it("a scratch worktree whose verifying process died is removed by the next merge; a live one's stays", async () => {
    await fx.branch("feat", { "b.txt": "b\n" });
    const root = path.join(fx.root, "state", "scratch");
    const dead = path.join(root, "tc-verify-999999-abc");
    const live = path.join(root, `tc-verify-${process.pid}-live`);
    const { runGit } = await import("../src/git/run.js");
    for (const dir of [dead, live]) await runGit(fx.repo, ["worktree", "add", "--detach", dir, "main"]);
    expect((await fx.queue.run(fx.request("feat"))).status).toBe("merged");
    const left = await worktreePaths(fx.repo);
    expect(left).not.toContain(dead);
    expect(left).toContain(live);
  });

  it("a verify that outlives its timeout fails the merge", async () => {
    await fx.branch("slow", { "s.txt": "s\n" });
    const outcome = await fx.queue.run(fx.request("slow", { verify: ["node", "-e", "setTimeout(() => {}, 60000)"], verifyTimeoutMs: 300 }));
    expect(outcome.status).toBe("verify-failed");
    expect(outcome.verify?.timedOut).toBe(true);
  });

  it("a missing target is a clear failure; an already merged branch is up to date", async () => {
    await fx.branch("feat", { "b.txt": "b\n" });
    const missing = await fx.queue.run(fx.request("feat", { target: "nope" }));
    expect(missing.status).toBe("failed");
    expect(missing.code).toBe("TC_GIT_TARGET_MISSING");
    expect(missing.reason).toMatch(/nope.*main/su);
    await fx.queue.run(fx.request("feat"));
    expect((await fx.queue.run(fx.request("feat"))).status).toBe("up-to-date");
  });
});

describe("verify argv", () => {
  it("splits a string on blanks and quotes, never through a shell", () => {
    expect(verifyArgv("npm test")).toEqual(["npm", "test"]);
    expect(verifyArgv(`node -e "console.log('a b')" $(rm -rf ~)`)).toEqual(["node", "-e", "console.log('a b')", "$(rm", "-rf", "~)"]);
    expect(() => verifyArgv("  ")).toThrow(/names no command/u);
    expect(() => verifyArgv(`echo "open`)).toThrow(/unclosed/u);
  });
});
