import { mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { gitValue, runGit } from "../src/git/run.js";
import { classifyConflicts, mergeTree, parseMergeTreeOutput } from "../src/forecast/merge-tree.js";
import { conflictHunks, hasConflictMarkers, markerRegions } from "../src/forecast/conflict-markers.js";
import { commitOn, lines, makeRepo, type FileChanges } from "./helpers.js";

let repo: string | undefined;
afterEach(async () => {
  if (repo) await rm(repo, { recursive: true, force: true });
  repo = undefined;
});

/** base on main, then `ours` and `theirs` branched from it; the checkout is left on main. */
async function scenario(base: Record<string, string | Buffer>, ours: FileChanges, theirs: FileChanges, renames: { ours?: Record<string, string>; theirs?: Record<string, string> } = {}) {
  repo = await makeRepo(await mkdtemp(path.join(os.tmpdir(), "tc-git-merge-tree-")), base);
  await commitOn(repo, "ours", ours, { from: "main", message: "ours side", renames: renames.ours });
  await commitOn(repo, "theirs", theirs, { from: "main", message: "theirs side", renames: renames.theirs });
  await runGit(repo, ["checkout", "-q", "main"]);
  return repo;
}

async function show(r: string, tree: string, file: string) {
  return (await runGit(r, ["cat-file", "blob", `${tree}:${file}`])).stdout;
}

describe("mergeTree: the five conflict kinds the issue names", () => {
  it("same line edited differently: content, with the hunk and git's message", async () => {
    const r = await scenario({ "a.txt": lines("line", 20) }, { "a.txt": lines("line", 20).replace("line 10\n", "OURS 10\n") }, { "a.txt": lines("line", 20).replace("line 10\n", "THEIRS 10\n") });
    const result = await mergeTree(r, "ours", "theirs");
    expect(result.clean).toBe(false);
    expect(result.conflicts).toHaveLength(1);
    const [conflict] = result.conflicts;
    expect(conflict).toMatchObject({ path: "a.txt", kind: "content", message: "CONFLICT (content): Merge conflict in a.txt" });
    expect(conflict!.stages).toEqual({ base: expect.objectContaining({ mode: "100644" }), ours: expect.any(Object), theirs: expect.any(Object) });
    // The hunk: three lines of context, both sides, nothing far away.
    expect(conflict!.hunks).toBe(["@@ lines 7-17 @@", "line 7", "line 8", "line 9", "<<<<<<< ours", "OURS 10", "=======", "THEIRS 10", ">>>>>>> theirs", "line 11", "line 12", "line 13"].join("\n"));
    expect(await show(r, result.tree, "a.txt")).toContain("<<<<<<< ours\nOURS 10\n=======\nTHEIRS 10\n>>>>>>> theirs\n");
  });

  it("edit vs delete: modify/delete, no hunks", async () => {
    const r = await scenario({ "gone.txt": lines("g") }, { "gone.txt": lines("g") + "more\n" }, { "gone.txt": null });
    const result = await mergeTree(r, "ours", "theirs");
    expect(result.conflicts).toEqual([
      expect.objectContaining({ path: "gone.txt", kind: "modify/delete", message: expect.stringMatching(/^CONFLICT \(modify\/delete\): gone\.txt deleted in theirs and modified in ours/u) }),
    ]);
    expect(result.conflicts[0]!.hunks).toBeUndefined();
    expect(result.conflicts[0]!.stages!.theirs).toBeUndefined();
  });

  it("rename vs edit: clean when the edit does not collide (git follows the rename)", async () => {
    const r = await scenario({ "old.txt": lines("r") }, {}, { "old.txt": lines("r").replace("r 5\n", "edited 5\n") }, { ours: { "old.txt": "moved/new.txt" } });
    const result = await mergeTree(r, "ours", "theirs");
    expect(result).toMatchObject({ clean: true, conflicts: [] });
    expect(await show(r, result.tree, "moved/new.txt")).toContain("edited 5\n");
  });

  it("rename vs edit of the same line: rename/modify at the new name, with hunks", async () => {
    const r = await scenario(
      { "old.txt": lines("r") },
      { "new.txt": lines("r").replace("r 5\n", "OURS 5\n") },
      { "old.txt": lines("r").replace("r 5\n", "THEIRS 5\n") },
      { ours: { "old.txt": "new.txt" } },
    );
    const result = await mergeTree(r, "ours", "theirs");
    expect(result.conflicts).toEqual([expect.objectContaining({ path: "new.txt", kind: "rename/modify", message: "CONFLICT (content): Merge conflict in new.txt" })]);
    expect(result.conflicts[0]!.hunks).toContain("<<<<<<< ours:new.txt\nOURS 5\n=======\nTHEIRS 5\n>>>>>>> theirs:old.txt");
    // Seen from the other side the rename is theirs: still rename/modify.
    const reverse = await mergeTree(r, "theirs", "ours");
    expect(reverse.conflicts).toEqual([expect.objectContaining({ path: "new.txt", kind: "rename/modify" })]);
    // By commit id, as the forecaster asks (the marker labels carry the id).
    const byId = await mergeTree(r, await gitValue(r, ["rev-parse", "ours"]), await gitValue(r, ["rev-parse", "theirs"]), { hunks: false });
    expect(byId.conflicts).toEqual([expect.objectContaining({ path: "new.txt", kind: "rename/modify" })]);
    expect(byId.conflicts[0]!.hunks).toBeUndefined();
  });

  it("rename vs delete and rename vs rename", async () => {
    const r = await scenario(
      { "d.txt": lines("d"), "rr.txt": lines("rr") },
      {},
      { "d.txt": null },
      { ours: { "d.txt": "d-moved.txt", "rr.txt": "rr-ours.txt" }, theirs: { "rr.txt": "rr-theirs.txt" } },
    );
    const result = await mergeTree(r, "ours", "theirs");
    const kinds = Object.fromEntries(result.conflicts.map((c) => [c.path, c.kind]));
    expect(kinds).toEqual({ "d-moved.txt": "modify/delete", "rr.txt": "rename/rename", "rr-ours.txt": "rename/rename", "rr-theirs.txt": "rename/rename" });
    expect(result.conflicts.find((c) => c.path === "d-moved.txt")!.message).toMatch(/^CONFLICT \(rename\/delete\): d\.txt renamed to d-moved\.txt in ours, but deleted in theirs/u);
  });

  it("binary file changed on both sides: binary, no hunks, git's warning kept", async () => {
    const r = await scenario({ "img.bin": Buffer.from([0, 1, 2, 3]) }, { "img.bin": Buffer.from([0, 1, 2, 4]) }, { "img.bin": Buffer.from([0, 1, 2, 5]) });
    const result = await mergeTree(r, "ours", "theirs");
    expect(result.conflicts).toEqual([expect.objectContaining({ path: "img.bin", kind: "binary" })]);
    expect(result.conflicts[0]!.message).toContain("Cannot merge binary files: img.bin");
    expect(result.conflicts[0]!.hunks).toBeUndefined();
  });

  it("both add the same path with different content: add/add, with hunks", async () => {
    const r = await scenario({ "keep.txt": "k\n" }, { "new.txt": "from ours\n" }, { "new.txt": "from theirs\n" });
    const result = await mergeTree(r, "ours", "theirs");
    expect(result.conflicts).toEqual([expect.objectContaining({ path: "new.txt", kind: "add/add", message: "CONFLICT (add/add): Merge conflict in new.txt" })]);
    expect(result.conflicts[0]!.hunks).toBe("@@ lines 1-5 @@\n<<<<<<< ours\nfrom ours\n=======\nfrom theirs\n>>>>>>> theirs");
    expect(result.conflicts[0]!.stages!.base).toBeUndefined();
  });
});

describe("mergeTree: more kinds, paths and guarantees", () => {
  it("a rename onto a path the other side added is add/add; a symlink against a file is other, at both paths git keeps", async () => {
    const r = await scenario({ "a.txt": lines("a") }, { "c.txt": "ours adds c\n" }, {}, { theirs: { "a.txt": "c.txt" } });
    const collision = await mergeTree(r, "ours", "theirs");
    expect(collision.conflicts).toEqual([expect.objectContaining({ path: "c.txt", kind: "add/add", message: "CONFLICT (add/add): Merge conflict in c.txt" })]);

    await runGit(r, ["checkout", "-q", "-b", "link-side", "main"]);
    await symlink("a.txt", path.join(r, "link"));
    await runGit(r, ["add", "link"]);
    await runGit(r, ["commit", "-q", "-m", "a link"]);
    await commitOn(r, "file-side", { link: "a file\n" }, { from: "main" });
    const types = await mergeTree(r, "link-side", "file-side");
    expect(types.conflicts.map((c) => [c.path, c.kind])).toEqual([["link", "other"], ["link~file-side", "other"]]);
    expect(types.conflicts[0]!.message).toMatch(/^CONFLICT \(distinct types\): link had different types on each side/u);
  });

  it("file vs directory: the file moved aside is a file/directory conflict", async () => {
    const r = await scenario({ "fd": "file\n" }, { "fd": null, "fd/inner.txt": "dir now\n" }, { "fd": "file edited\n" });
    const result = await mergeTree(r, "ours", "theirs");
    expect(result.conflicts).toEqual([expect.objectContaining({ path: "fd~theirs", kind: "file/directory", message: expect.stringContaining("CONFLICT (file/directory)") })]);
  });

  it("paths with spaces, a newline and unicode come back exactly", async () => {
    const names = ["with space.txt", "new\nline.txt", "ünï cödé/日本.txt"];
    const base = Object.fromEntries(names.map((n) => [n, lines("x")]));
    const ours = Object.fromEntries(names.map((n) => [n, lines("x").replace("x 3\n", "ours 3\n")]));
    const theirs = Object.fromEntries(names.map((n) => [n, lines("x").replace("x 3\n", "theirs 3\n")]));
    const r = await scenario(base, ours, theirs);
    const result = await mergeTree(r, "ours", "theirs");
    expect(result.conflicts.map((c) => c.path).sort()).toEqual([...names].sort());
    for (const c of result.conflicts) {
      expect(c.kind).toBe("content");
      expect(c.hunks).toContain("ours 3\n=======\ntheirs 3");
    }
  });

  it("a clean merge gives the merged tree; nothing in the repository changes, also when conflicted", async () => {
    const r = await scenario({ "a.txt": lines("a"), "b.txt": lines("b") }, { "a.txt": lines("a") + "ours\n" }, { "b.txt": "theirs\n" + lines("b") });
    await runGit(r, ["checkout", "-q", "ours"]);
    const before = { head: await gitValue(r, ["rev-parse", "HEAD"]), status: await gitValue(r, ["status", "--porcelain"]), refs: await gitValue(r, ["for-each-ref"]) };
    const result = await mergeTree(r, "ours", "theirs");
    expect(result).toMatchObject({ clean: true, conflicts: [], messages: [] });
    expect(await show(r, result.tree, "a.txt")).toBe(lines("a") + "ours\n");
    expect(await show(r, result.tree, "b.txt")).toBe("theirs\n" + lines("b"));
    // The same tree `git merge` would commit.
    await runGit(r, ["merge", "-q", "--no-edit", "theirs"]);
    expect(await gitValue(r, ["rev-parse", "HEAD^{tree}"])).toBe(result.tree);
    await runGit(r, ["reset", "-q", "--hard", before.head]);
    await commitOn(r, "theirs", { "a.txt": lines("a") + "theirs\n" });
    await runGit(r, ["checkout", "-q", "ours"]);
    const conflicted = await mergeTree(r, "ours", "theirs");
    expect(conflicted.clean).toBe(false);
    expect({ head: await gitValue(r, ["rev-parse", "HEAD"]), status: await gitValue(r, ["status", "--porcelain"]) }).toEqual({ head: before.head, status: before.status });
  });

  it("hunks can be skipped (the forecaster needs only paths and kinds)", async () => {
    const r = await scenario({ "a.txt": lines("a") }, { "a.txt": "x\n" }, { "a.txt": "y\n" });
    const result = await mergeTree(r, "ours", "theirs", { hunks: false });
    expect(result.conflicts).toEqual([expect.objectContaining({ path: "a.txt", kind: "content" })]);
    expect(result.conflicts[0]!.hunks).toBeUndefined();
  });

  it("bad names: a missing branch names both values and the fix; a leading dash is refused before git runs", async () => {
    const r = await scenario({ "a.txt": "a\n" }, {}, {});
    await expect(mergeTree(r, "ours", "no-such-branch")).rejects.toMatchObject({
      code: "TC_GIT_COMMAND_FAILED",
      message: expect.stringMatching(/no-such-branch.*Check that "ours" and "no-such-branch" name commits/su),
    });
    await expect(mergeTree(r, "--output=x", "ours")).rejects.toMatchObject({ code: "TC_GIT_BAD_REF", message: expect.stringContaining('"--output=x" (ours)') });
  });
});

describe("mergeTree with a git older than 2.38", () => {
  it("is TC_GIT_UNAVAILABLE naming the fix", async () => {
    // A stand-in git that answers as 2.37 does: --write-tree is an unknown option (usage, exit 129).
    const bin = await mkdtemp(path.join(os.tmpdir(), "tc-git-old-"));
    await writeFile(path.join(bin, "git"), "#!/bin/sh\necho \"error: unknown option \\`write-tree'\" >&2\necho 'usage: git merge-tree <base-tree> <branch1> <branch2>' >&2\nexit 129\n", { mode: 0o755 });
    const savedPath = process.env.PATH;
    process.env.PATH = `${bin}${path.delimiter}${savedPath ?? ""}`;
    try {
      await expect(mergeTree(bin, "a", "b")).rejects.toMatchObject({ code: "TC_GIT_UNAVAILABLE", message: expect.stringMatching(/unknown option .write-tree.*Install git 2\.38 or newer/su) });
    } finally {
      process.env.PATH = savedPath;
      await rm(bin, { recursive: true, force: true });
    }
  });
});

describe("conflict markers", () => {
  const text = ["a", "b", "<<<<<<< ours", "x", "=======", "y", ">>>>>>> theirs", "c", "d", "e", "f", "g", "h", "i", "<<<<<<< ours", "p", "=======", ">>>>>>> theirs", "z", ""].join("\n");
  it("finds each region and cuts far-apart regions into separate hunks", () => {
    expect(markerRegions(text)).toEqual([{ start: 3, end: 7 }, { start: 15, end: 18 }]);
    const hunks = conflictHunks(text, 2)!;
    expect(hunks.split("\n").filter((l) => l.startsWith("@@"))).toEqual(["@@ lines 1-9 @@", "@@ lines 13-19 @@"]);
    expect(conflictHunks(text, 4)!.split("\n").filter((l) => l.startsWith("@@"))).toEqual(["@@ lines 1-19 @@"]);
  });
  it("tells whether any marker line remains", () => {
    expect(hasConflictMarkers(text)).toBe(true);
    expect(hasConflictMarkers("a\n=======\n")).toBe(true);
    expect(hasConflictMarkers("a <<<<<<< not at line start\n== short\n")).toBe(false);
    expect(conflictHunks("no markers\n")).toBeUndefined();
  });
});

describe("parsing and classifying merge-tree's output", () => {
  const oid = (n: number) => String(n).repeat(40);
  const tree = "a".repeat(40);
  it("reads stages and messages, and kinds git reports rarely: modes, submodules, a rename colliding with an add; stages alone when no message names a path", () => {
    const out = [
      tree,
      `100644 ${oid(1)} 2\tmode.sh`,
      `100755 ${oid(2)} 3\tmode.sh`,
      `160000 ${oid(3)} 1\tsub`,
      `160000 ${oid(4)} 2\tsub`,
      `160000 ${oid(5)} 3\tsub`,
      `100644 ${oid(6)} 2\tcollide.txt`,
      `100644 ${oid(7)} 3\tcollide.txt`,
      `100644 ${oid(8)} 2\tquiet-add.txt`,
      `100644 ${oid(9)} 3\tquiet-add.txt`,
      `100644 ${oid(1)} 1\tquiet-del.txt`,
      `100644 ${oid(2)} 2\tquiet-del.txt`,
      "",
      "1", "mode.sh", "CONFLICT (distinct modes)", "CONFLICT (distinct types): mode.sh had different types on each side\n",
      "1", "sub", "CONFLICT (submodule failed to merge)", "Failed to merge submodule sub\n",
      "2", "collide.txt", "old.txt", "CONFLICT (rename involved in collision)", "CONFLICT (rename involved in collision): ...\n",
      "1", "collide.txt", "Auto-merging", "Auto-merging collide.txt\n",
      "",
    ].join("\0");
    const parsed = parseMergeTreeOutput(out, false);
    expect(parsed.tree).toBe(tree);
    expect(parsed.stages).toHaveLength(11);
    expect(parsed.messages.map((m) => m.type)).toEqual(["CONFLICT (distinct modes)", "CONFLICT (submodule failed to merge)", "CONFLICT (rename involved in collision)", "Auto-merging"]);
    expect(parsed.messages[2]!.paths).toEqual(["collide.txt", "old.txt"]);
    const kinds = Object.fromEntries(classifyConflicts(parsed.stages, parsed.messages).map((c) => [c.path, c.kind]));
    expect(kinds).toEqual({ "mode.sh": "other", sub: "other", "collide.txt": "add/add", "quiet-add.txt": "add/add", "quiet-del.txt": "modify/delete" });
    // "Auto-merging" is information, not part of a conflict's message.
    expect(classifyConflicts(parsed.stages, parsed.messages).find((c) => c.path === "collide.txt")!.message).not.toContain("Auto-merging");
  });

  it("a clean merge is the tree alone; output that does not start with a tree is refused with the git version hint", () => {
    expect(parseMergeTreeOutput(`${tree}\0`, true)).toEqual({ clean: true, tree, stages: [], messages: [] });
    expect(() => parseMergeTreeOutput("usage: git merge-tree ...", false)).toThrow(/not a tree id first.*2\.38/su);
  });
});
