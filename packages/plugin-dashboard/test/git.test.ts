// Git fields and merge, when plugin-git is loaded: computed on instance changes, pushed on the socket.
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { expect, test } from "vitest";
import { git } from "@tmux-claude/plugin-git";
import type { InstanceView, ServerMessage } from "../src/protocol.js";
import { action, csrfOf, login, SocketClient, startDashboard } from "./helpers.js";

const run = promisify(execFile);
const gitIn = (dir: string, ...args: string[]) => run("git", ["-C", dir, ...args]).then((result) => result.stdout.trim());

test("an instance's branch, base, dirty files and ahead count reach the page; merge runs through plugin-git", async () => {
  const env = await startDashboard({ plugins: [git()] });
  try {
    const repo = env.harness.workDir;
    await gitIn(repo, "init", "-q", "-b", "main");
    await gitIn(repo, "config", "user.name", "Test");
    await gitIn(repo, "config", "user.email", "test@example.invalid");
    await writeFile(path.join(repo, "README.md"), "hello\n");
    await gitIn(repo, "add", "-A");
    await gitIn(repo, "commit", "-q", "-m", "initial");
    const { cookie } = await login(env.loginUrl);
    const socket = await SocketClient.connect(env.origin, { cookie });
    const { instance } = await env.harness.kernel.spawn({ role: "manager", workDir: repo });
    const gitOf = (check: (view: InstanceView) => boolean, what: string) =>
      socket.next((m: ServerMessage) => m.type === "instance" && m.instance.id === instance.id && m.instance.git !== undefined && check(m.instance), 10_000, what) as Promise<{ instance: InstanceView }>;
    const first = await gitOf(() => true, "git fields");
    expect(first.instance.git).toMatchObject({ branch: `tc/${instance.id}`, base: "main", ahead: 0, behind: 0, dirty: [], conflicts: [] });

    await writeFile(path.join(instance.workDir, "new.txt"), "work\n");
    // An instance change (here a turn) is when its git fields are read again.
    await env.harness.kernel.send(instance.id, "look at new.txt");
    await gitOf((view) => view.git!.dirty.includes("new.txt"), "the dirty file");

    await gitIn(instance.workDir, "add", "-A");
    await gitIn(instance.workDir, "commit", "-q", "-m", "work");
    await env.harness.kernel.send(instance.id, "committed");
    await gitOf((view) => view.git!.ahead === 1 && view.git!.dirty.length === 0, "ahead 1");

    const csrf = await csrfOf(env.origin, cookie);
    const merged = await action(env.origin, cookie, csrf, instance.id, "merge", { strategy: "merge" });
    expect(merged.status, JSON.stringify(merged.json)).toBe(200);
    expect(merged.json.status).toBe("merged");
    expect(await gitIn(repo, "log", "-1", "--format=%s", "main")).not.toBe("initial");
    const badStrategy = await action(env.origin, cookie, csrf, instance.id, "merge", { strategy: "octopus" });
    expect(badStrategy.status).toBe(400);
    expect(badStrategy.json.error.message).toContain("strategy");
    socket.close();
  } finally {
    await env.close();
  }
});
