/**
 * Which Claude Code releases the real-client tests run on. The newest one is
 * asked of the npm registry; when that cannot be done it is skipped, with the
 * reason shown, never silently.
 */
import { createServer } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { claudeReleases, NEWEST_CLAUDE_ENV } from "../src/index.js";

/** A loopback port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("claudeReleases", () => {
  const saved = process.env[NEWEST_CLAUDE_ENV];
  afterEach(() => {
    vi.restoreAllMocks();
    if (saved === undefined) delete process.env[NEWEST_CLAUDE_ENV];
    else process.env[NEWEST_CLAUDE_ENV] = saved;
  });

  it("the pinned release is the one in node_modules", async () => {
    process.env[NEWEST_CLAUDE_ENV] = "off";
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const [pinned] = await claudeReleases();
    expect(pinned).toMatchObject({ name: "pinned", label: `pinned ${pinned!.version}` });
    const binary = await pinned!.binary();
    expect(binary).toMatchObject({ source: "node_modules", version: pinned!.version });
  });

  it("an unreachable registry skips the newest release with the reason and a warning", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const registry = `http://127.0.0.1:${await closedPort()}/`;
    const releases = await claudeReleases({ registry, registryTimeoutMs: 15_000 });
    expect(releases.map((r) => r.name)).toEqual(["pinned", "newest"]);
    const newest = releases[1]!;
    expect(newest.version).toBeUndefined();
    expect(newest.skip).toMatch(/^the npm registry could not be asked for the newest @anthropic-ai\/claude-code: npm view .*failed/u);
    expect(newest.label).toBe(`newest (skipped: ${newest.skip})`);
    expect(warn).toHaveBeenCalledWith(`[testkit] Not running the tests on the newest Claude Code release: ${newest.skip}`);
    await expect(newest.binary()).rejects.toThrow(/newest Claude Code release is skipped/u);
  }, 30_000);

  it(`${NEWEST_CLAUDE_ENV}=off skips it without asking, and says so`, async () => {
    process.env[NEWEST_CLAUDE_ENV] = "off";
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const [, newest] = await claudeReleases({ registry: "http://127.0.0.1:1/" });
    expect(newest).toMatchObject({ skip: `${NEWEST_CLAUDE_ENV}=off`, label: `newest (skipped: ${NEWEST_CLAUDE_ENV}=off)` });
    expect(warn).toHaveBeenCalledOnce();
  });
});
