// The Knowledge and file claims section in a real Chromium: a note recorded
// and a claim made (by another process) show up live; the claim goes when
// its instance is terminated.
import { createHarness, type Harness } from "@tmux-claude/testkit";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dashboard, type DashboardApi } from "@tmux-claude/plugin-dashboard";
import { knowledge, type KnowledgeApi } from "@tmux-claude/plugin-knowledge";
import { launchChromium } from "./browser.js";

let browser: Browser;
let harness: Harness;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  harness = await createHarness({ plugins: [dashboard({ port: 0 }), knowledge()] }, { label: "dash-know" });
  const api = harness.kernel.plugin<DashboardApi>("dashboard")!;
  await api.listening();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on("pageerror", (error) => pageErrors.push(error.message));
  await page.goto(api.url()!);
  await page.waitForSelector('[data-testid="connection"][data-state="connected"]', { timeout: 5_000 });
});

afterAll(async () => {
  await browser?.close();
  await harness?.close();
});

describe("Knowledge section in Chromium", () => {
  it("shows notes and claims as they are recorded, and drops a claim when its instance ends", async () => {
    expect(await page.getByTestId("knowledge-panel").isVisible()).toBe(true);
    expect(await page.getByTestId("knowledge").textContent()).toBe("No knowledge recorded.");
    const { instance } = await harness.kernel.spawn({ role: "specialist", workDir: harness.workDir });
    const cli = await harness.startKernel({ watch: "on-demand", config: { plugins: [knowledge()] } });
    const api = cli.plugin<KnowledgeApi>("knowledge")!;
    await api.record(instance.id, instance.id, { key: "style", value: "Tabs, not spaces.\nSecond line.", tags: ["conventions"] });
    await api.claim(instance.id, { paths: ["src/style.ts"] });
    const entry = page.locator('[data-testid="knowledge-entry"][data-key="style"]');
    await entry.waitFor({ timeout: 5_000 });
    expect(await entry.textContent()).toContain("#conventions");
    expect(await entry.locator(".value").textContent()).toBe("Tabs, not spaces.\nSecond line.");
    const claim = page.locator(`[data-testid="claim"][data-instance="${instance.id}"]`);
    await claim.waitFor({ timeout: 5_000 });
    expect(await claim.textContent()).toContain(`${instance.id}: src/style.ts`);
    if (process.env.TC_SHOT) await page.screenshot({ path: process.env.TC_SHOT, fullPage: true });
    await cli.terminate(instance.id);
    await claim.waitFor({ state: "detached", timeout: 5_000 });
    expect(await page.getByTestId("claims").textContent()).toBe("No file claims.");
    expect(pageErrors).toEqual([]);
  });
});
