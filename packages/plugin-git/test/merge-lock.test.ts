// The merge lock: one holder at a time, also when several waiters take over a
// dead holder's lock at once (review 3), and nothing a kill leaves blocks the
// next merge for good (review 4).
import { mkdir, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { mkdtemp, rm } from "node:fs/promises";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { lockTarget, targetLockPath } from "../src/merge/lock.js";

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

/** The lock as a holder that was killed -9 leaves it: complete, naming a pid that no longer runs. */
async function plantDeadHolder(lockDir: string, branch: string): Promise<void> {
  const lock = targetLockPath(lockDir, branch);
  await mkdir(lock, { recursive: true });
  await writeFile(path.join(lock, "owner"), JSON.stringify({ pid: 999_999, start: null, host: hostname(), token: "dead-holder", key: "k", acquiredAt: new Date(0).toISOString() }));
}

describe("merge lock", () => {
  it("six waiters taking over a dead holder's lock at once: never two holders (200 trials) (review 3)", async () => {
    let worst = 0;
    for (let trial = 0; trial < 200; trial += 1) {
      dir = await mkdtemp(path.join(tmpdir(), "tc-merge-lock-"));
      await plantDeadHolder(dir, "main");
      let held = 0;
      await Promise.all(
        Array.from({ length: 6 }, async () => {
          const lock = await lockTarget(dir!, "main", 10_000);
          held += 1;
          worst = Math.max(worst, held);
          await new Promise((resolve) => setTimeout(resolve, 5));
          held -= 1;
          await lock.release();
        }),
      );
      await rm(dir, { recursive: true, force: true });
    }
    expect(worst).toBe(1);
  }, 120_000);

  it("four processes taking over a dead holder's lock at once: one holder at a time, every round served", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "tc-merge-lock-"));
    await plantDeadHolder(dir, "main");
    const log = path.join(dir, "holders.log");
    const child = fileURLToPath(new URL("./fixtures/lock-child.mjs", import.meta.url));
    const codes = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const proc = spawn(process.execPath, [child, dir!, log, "3"], { stdio: "ignore" });
        return ((await once(proc, "exit")) as [number])[0];
      }),
    );
    expect(codes).toEqual([0, 0, 0, 0]);
    const lines = (await readFile(log, "utf8")).split("\n").filter(Boolean);
    expect(lines).toHaveLength(24);
    // Every entry is followed by the same process leaving.
    for (let i = 0; i < lines.length; i += 2) expect(lines[i + 1]).toBe(`-${lines[i]!.slice(1)}`);
  }, 60_000);

  it("a lock left without its owner (what a kill between creating and writing it left) is taken over, not waited on until lockTimeoutMs (review 4)", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "tc-merge-lock-"));
    // The lock is made complete in one rename, so only something else can leave it ownerless; it is taken over once stale (10 s).
    await writeFile(targetLockPath(dir, "main"), "");
    const started = Date.now();
    const lock = await lockTarget(dir, "main", 20_000);
    expect(Date.now() - started).toBeLessThan(15_000);
    await lock.release();
  }, 30_000);
});
