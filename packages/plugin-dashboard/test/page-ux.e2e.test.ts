// What a new user met on the page, in a real Chromium against a real kernel:
// the terminal at the pane's size with its history, instances told apart by
// id, what needs attention and why, errors in words, and the layout at 1400x900.
import { createHarness, type Harness } from "@tmux-claude/testkit";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dashboard, type DashboardApi } from "@tmux-claude/plugin-dashboard";
import { launchChromium } from "./browser.js";

let browser: Browser;
let harness: Harness;
let page: Page;

const row = (id: string) => `[data-testid="tree"] [data-id="${id}"]`;
const terminalText = () => page.evaluate(() => (window as unknown as { dashboard: { terminalText(): string } }).dashboard.terminalText());

beforeAll(async () => {
  browser = await launchChromium();
  harness = await createHarness({ plugins: [dashboard({ port: 0 })] }, { label: "dash-ux" });
  const api = harness.kernel.plugin<DashboardApi>("dashboard")!;
  await api.listening();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(api.url()!);
  await page.waitForSelector('[data-testid="connection"][data-state="connected"]', { timeout: 5_000 });
});

afterAll(async () => {
  await browser?.close();
  await harness?.close();
});

describe("the page, as a new user meets it", () => {
  it("draws the terminal at the pane's size and shows what scrolled off before it was opened", async () => {
    const { instance } = await harness.kernel.spawn({ role: "specialist", name: "wide", workDir: harness.workDir });
    await harness.tmux("resize-window", "-t", instance.tmux.windowId, "-x", "200", "-y", "50");
    for (let i = 0; i < 70; i++) await harness.kernel.send(instance.id, `early line ${i}`);
    await page.waitForSelector(row(instance.id), { timeout: 10_000 });
    await page.locator(row(instance.id)).click();
    const host = page.getByTestId("terminal");
    await page.waitForFunction(() => document.querySelector('[data-testid="terminal"]')?.getAttribute("data-cols") === "200", undefined, { timeout: 10_000 });
    expect(await host.getAttribute("data-rows")).toBe("50");
    await page.waitForFunction(() => (window as unknown as { dashboard: { terminalText(): string } }).dashboard.terminalText().includes("echo: early line 69"), undefined, { timeout: 5_000 });
    // Line 0 scrolled off the 50-row pane before the page opened it: it comes from tmux's scrollback.
    expect(await terminalText()).toContain("echo: early line 0");
    // A 200-column line is not wrapped at 120.
    await harness.kernel.send(instance.id, `${"x".repeat(150)}END`);
    await page.waitForFunction(() => (window as unknown as { dashboard: { terminalText(): string } }).dashboard.terminalText().includes(`${"x".repeat(150)}END`), undefined, { timeout: 5_000 });
  });
});
