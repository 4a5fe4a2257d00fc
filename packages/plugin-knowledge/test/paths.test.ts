// Claimed paths: normalised to project paths, and when two overlap.
import { mkdtemp, mkdir, realpath, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { overlaps, projectPath } from "../src/index.js";

describe("overlaps", () => {
  test.each([
    ["src/a.ts", "src/a.ts", true],
    ["src", "src/a.ts", true],
    ["src/a.ts", "src/ab.ts", false],
    ["src/a", "src/ab/c.ts", false],
    [".", "anything/at/all", true],
    ["src/*.ts", "src/a.ts", true],
    ["src/*.ts", "src/lib/a.ts", false],
    ["src/**", "src/lib/a.ts", true],
    ["**/*.md", "docs/x.md", true],
    // A plain path claims everything below it too (it may be a directory), so a "**" glob meets it.
    ["**/*.md", "docs/x.ts", true],
    ["docs/*.md", "docs/x.ts", false],
    ["src/*", "src/lib/a.ts", true],
    ["src/lib/*.ts", "src", true],
    ["src/?.ts", "src/ab.ts", false],
    ["src/**", "lib/**", false],
    ["src/*.ts", "src/*.md", true],
    // A directory against a glob that matches something below it (segment-wise).
    ["src", "**/auth.ts", true],
    ["src", "*/auth.ts", true],
    ["src/auth", "**/*.ts", true],
    ["src/a", "src/*/b.ts", true],
    [".", "**/x.ts", true],
    ["src/a", "lib/*/b.ts", false],
    ["src/a", "*/b/c.ts", false],
    ["src/a", "*/a/c.ts", true],
    ["src/a/x.ts", "*/b/**", false],
    ["/w/pkg", "/w/**/x.ts", true],
  ])("%s and %s: %s", (a, b, expected) => {
    expect(overlaps(a, b)).toBe(expected);
    expect(overlaps(b, a)).toBe(expected);
  });
});

describe("projectPath", () => {
  test("relative, absolute inside, dot segments and the whole workdir", async () => {
    const work = await realpath(await mkdtemp(path.join(os.tmpdir(), "tc-paths-")));
    await mkdir(path.join(work, "src"));
    expect(await projectPath(work, "src/a.ts")).toBe("src/a.ts");
    expect(await projectPath(work, "./src/../src/a.ts")).toBe("src/a.ts");
    expect(await projectPath(work, path.join(work, "src", "b.ts"))).toBe("src/b.ts");
    expect(await projectPath(work, "src/**/*.ts")).toBe("src/**/*.ts");
    expect(await projectPath(work, ".")).toBe(".");
    expect(await projectPath(work, "**")).toBe("**");
    await expect(projectPath(work, "src/**/../../x")).rejects.toThrow(/outside your workdir/u);
    await expect(projectPath(work, "..")).rejects.toThrow(/Claimed path "\.\." is outside your workdir/u);
    await symlink(os.tmpdir(), path.join(work, "tmp-link"));
    await expect(projectPath(work, "tmp-link/x")).rejects.toThrow(/outside your workdir/u);
    await expect(projectPath(work, " ")).rejects.toThrow(/is empty or not a path/u);
  });
});
