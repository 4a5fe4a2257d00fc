/**
 * The finder's search order and errors, with small stand-in executables in
 * temp dirs. The real binary is exercised in real-claude.test.ts.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CLAUDE_BIN_ENV, findClaudeBinary, TestkitErrorCodes } from "../src/index.js";

async function fakeClaude(path: string, version: string): Promise<string> {
  await mkdir(join(path, ".."), { recursive: true });
  await writeFile(path, `#!/bin/sh\necho "${version} (Claude Code)"\n`);
  await chmod(path, 0o755);
  return path;
}

const platformPackage = `claude-code-${process.platform}-${process.arch}`;

describe("findClaudeBinary", () => {
  let root: string;
  let saved: { bin?: string; path?: string };

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "testkit-bin-"));
    saved = { bin: process.env[CLAUDE_BIN_ENV], path: process.env.PATH };
    delete process.env[CLAUDE_BIN_ENV];
    process.env.PATH = join(root, "empty-path");
  });
  afterEach(async () => {
    if (saved.bin === undefined) delete process.env[CLAUDE_BIN_ENV];
    else process.env[CLAUDE_BIN_ENV] = saved.bin;
    process.env.PATH = saved.path;
    await rm(root, { recursive: true, force: true });
  });

  it("prefers the env variable", async () => {
    process.env[CLAUDE_BIN_ENV] = await fakeClaude(join(root, "bin", "claude"), "2.1.7");
    await fakeClaude(join(root, "node_modules", "@anthropic-ai", platformPackage, "claude"), "2.1.8");
    expect(await findClaudeBinary({ cwd: root })).toEqual({ path: join(root, "bin", "claude"), version: "2.1.7", source: "env" });
  });

  it("fails loudly when the env variable points nowhere", async () => {
    process.env[CLAUDE_BIN_ENV] = join(root, "nope");
    const error = await findClaudeBinary({ cwd: root }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: TestkitErrorCodes.CLAUDE_NOT_FOUND });
    expect((error as Error).message).toContain(CLAUDE_BIN_ENV);
    expect((error as Error).message).toContain(join(root, "nope"));
  });

  it("finds the platform package in a node_modules above cwd, then PATH", async () => {
    const nested = join(root, "packages", "x");
    await mkdir(nested, { recursive: true });
    const bin = await fakeClaude(join(root, "node_modules", "@anthropic-ai", platformPackage, "claude"), "2.1.9");
    expect(await findClaudeBinary({ cwd: nested, cacheDir: join(root, "cache") })).toMatchObject({ path: bin, source: "node_modules" });

    await rm(join(root, "node_modules"), { recursive: true });
    const onPath = await fakeClaude(join(root, "empty-path", "claude"), "2.1.10");
    expect(await findClaudeBinary({ cwd: nested, cacheDir: join(root, "cache") })).toEqual({ path: onPath, version: "2.1.10", source: "path" });
  });

  it("uses a cached install and skips binaries of another version", async () => {
    await fakeClaude(join(root, "node_modules", "@anthropic-ai", platformPackage, "claude"), "2.1.1");
    const cached = await fakeClaude(join(root, "cache", "claude-2.1.2", "node_modules", "@anthropic-ai", platformPackage, "claude"), "2.1.2");
    expect(await findClaudeBinary({ cwd: root, cacheDir: join(root, "cache"), version: "2.1.2" })).toEqual({
      path: cached,
      version: "2.1.2",
      source: "cache",
    });
  });

  it("names everything it tried when nothing is found", async () => {
    const error = await findClaudeBinary({ cwd: root, cacheDir: join(root, "cache") }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: TestkitErrorCodes.CLAUDE_NOT_FOUND });
    const message = (error as Error).message;
    expect(message).toContain(`${CLAUDE_BIN_ENV} (unset)`);
    expect(message).toContain(join(root, "cache", "claude-latest"));
    expect(message).toContain("on PATH");
    expect(message).toContain("install: true");
  });

  it("rejects a version that is not a version or dist-tag", async () => {
    await expect(findClaudeBinary({ version: "file:../evil" })).rejects.toMatchObject({ code: TestkitErrorCodes.INVALID_ARGUMENT });
  });
});
