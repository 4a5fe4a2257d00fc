// Journals hold prompts, replies and command output: only their owner reads them.
import { mkdtemp, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect, test } from "vitest";
import { JournalWriter } from "../src/index.js";

test("a journal's directory is made 0700 and its file 0600, whatever the umask lets through", async () => {
  const base = await mkdtemp(path.join(os.tmpdir(), "wf-jmode-"));
  try {
    const file = path.join(base, "state", "runs", "x.jsonl");
    const writer = new JournalWriter(file, "x");
    writer.write({ type: "reply", instanceId: "a", text: "private" });
    await writer.flush();
    const mode = async (p: string) => (await stat(p)).mode & 0o777;
    expect(await mode(file)).toBe(0o600);
    expect(await mode(path.dirname(file))).toBe(0o700);
    expect(await mode(path.join(base, "state"))).toBe(0o700);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});
