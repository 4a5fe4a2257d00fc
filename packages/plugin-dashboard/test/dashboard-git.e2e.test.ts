// The page's git section with plugin-git loaded, in a real Chromium against a
// real kernel, a real repository and worktrees: branch, base, ahead/behind and
// dirty files of the selected instance, and a merge confirmed in the page.
import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { createHarness, type Harness } from "@tmux-claude/testkit";
import { git } from "@tmux-claude/plugin-git";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dashboard, type DashboardApi } from "@tmux-claude/plugin-dashboard";
import { launchChromium } from "./browser.js";

const execFileAsync = promisify(execFile);
const runGit = async (cwd: string, ...args: string[]) => (await execFileAsync("git", args, { cwd })).stdout.trim();

let browser: Browser;
let harness: Harness;
let page: Page;

const detail = (key: string) => page.getByTestId(`detail-${key}`);

beforeAll(async () => {
  browser = await launchChromium();
  harness = await createHarness({ plugins: [git({ forecast: { debounceMs: 50 } }), dashboard({ port: 0 })] }, { label: "dash-git" });
  const repo = harness.workDir;
  await runGit(repo, "init", "-q", "-b", "main");
  await runGit(repo, "config", "user.name", "Test");
  await runGit(repo, "config", "user.email", "test@example.invalid");
  await writeFile(path.join(repo, "README.md"), "hello\n");
  await runGit(repo, "add", "-A");
  await runGit(repo, "commit", "-q", "-m", "initial");
  const api = harness.kernel.plugin<DashboardApi>("dashboard")!;
  await api.listening();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(api.url()!);
  await page.waitForSelector('[data-testid="connection"][data-state="connected"]', { timeout: 5_000 });
});

afterAll(async () => {
  await browser?.close();
  await harness?.close();
});

describe("dashboard with plugin-git", () => {
  it("shows the selected instance's branch, base, ahead/behind and dirty files, and merges it after confirmation", async () => {
    const { instance: lead } = await harness.kernel.spawn({ role: "manager", name: "lead", workDir: harness.workDir });
    const { instance: spec } = await harness.kernel.spawn({ role: "specialist", name: "worker", parentId: lead.id, workDir: lead.workDir });
    await page.waitForSelector(`[data-testid="tree"] [data-id="${spec.id}"][data-status="idle"]`, { timeout: 10_000 });
    await page.locator(`[data-testid="tree"] [data-id="${spec.id}"]`).click();
    await page.getByTestId("git").waitFor({ state: "visible", timeout: 10_000 });
    expect(await detail("branch").textContent()).toBe(`tc/${spec.id}`);
    expect(await detail("base").textContent()).toBe(`tc/${lead.id}`);
    expect(await detail("aheadBehind").textContent()).toBe("0 ahead, 0 behind");
    expect(await detail("dirty").textContent()).toBe("(clean)");

    // Work in its worktree: one commit and one uncommitted file. A turn (status change) makes the server look again.
    const worktree = (await harness.kernel.get(spec.id)).workDir;
    await writeFile(path.join(worktree, "feature.txt"), "feature\n");
    await runGit(worktree, "add", "feature.txt");
    await runGit(worktree, "commit", "-q", "-m", "feature");
    await writeFile(path.join(worktree, "notes.txt"), "draft\n");
    await harness.kernel.send(spec.id, "/work 300");
    await page.waitForFunction(() => document.querySelector('[data-testid="detail-aheadBehind"]')?.textContent === "1 ahead, 0 behind", undefined, { timeout: 10_000 });
    await page.waitForFunction(() => document.querySelector('[data-testid="detail-dirty"]')?.textContent?.includes("notes.txt"), undefined, { timeout: 10_000 });

    await page.getByTestId("action-merge").click();
    await page.getByTestId("confirm-dialog").waitFor({ state: "visible" });
    expect(await page.getByTestId("confirm-title").textContent()).toContain("Merge worker (specialist)");
    await page.getByTestId("confirm-ok").click();
    await page.waitForFunction(() => document.querySelector('[data-testid="action-result"]')?.textContent?.startsWith("Merged "), undefined, { timeout: 30_000 });
    expect(await runGit(harness.workDir, "show", `tc/${lead.id}:feature.txt`)).toBe("feature");
    expect(await page.getByTestId("action-result").textContent()).toContain(`into tc/${lead.id}`);
    expect(await page.getByTestId("action-error").textContent()).toBe("");
  });

  it("shows a merge that ends in a conflict as an error with the conflicted file, not as done", async () => {
    const { instance: lead } = await harness.kernel.spawn({ role: "manager", name: "clash-lead", workDir: harness.workDir });
    const { instance: spec } = await harness.kernel.spawn({ role: "specialist", name: "clash", parentId: lead.id, workDir: lead.workDir });
    const leadTree = (await harness.kernel.get(lead.id)).workDir;
    const specTree = (await harness.kernel.get(spec.id)).workDir;
    for (const [tree, text] of [[leadTree, "lead\n"], [specTree, "spec\n"]] as const) {
      await writeFile(path.join(tree, "clash.txt"), text);
      await runGit(tree, "add", "clash.txt");
      await runGit(tree, "commit", "-q", "-m", `clash from ${text.trim()}`);
    }
    await page.waitForSelector(`[data-testid="tree"] [data-id="${spec.id}"]`, { timeout: 10_000 });
    await page.locator(`[data-testid="tree"] [data-id="${spec.id}"]`).click();
    await page.getByTestId("git").waitFor({ state: "visible", timeout: 10_000 });
    await page.getByTestId("action-merge").click();
    await page.getByTestId("confirm-ok").click();
    await page.waitForFunction(() => document.querySelector('[data-testid="action-error"]')?.textContent !== "", undefined, { timeout: 30_000 });
    const error = await page.getByTestId("action-error").textContent();
    expect(error).toMatch(/^Not merged: conflict/u);
    expect(error).toContain("clash.txt");
    expect(await page.getByTestId("action-result").textContent()).toBe("");
  });

  it("hides the git section for an instance outside any repository", async () => {
    const outside = path.join(harness.dir, "plain");
    await mkdir(outside, { recursive: true });
    const { instance } = await harness.kernel.spawn({ role: "specialist", name: "plain", workDir: outside });
    await page.waitForSelector(`[data-testid="tree"] [data-id="${instance.id}"]`, { timeout: 10_000 });
    await page.locator(`[data-testid="tree"] [data-id="${instance.id}"]`).click();
    await page.waitForFunction((id) => document.querySelector('[data-testid="detail-id"]')?.textContent === id, instance.id);
    expect(await page.getByTestId("git").isHidden()).toBe(true);
  });
});
