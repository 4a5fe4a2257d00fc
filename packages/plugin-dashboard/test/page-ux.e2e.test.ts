// What a new user met on the page, in a real Chromium against a real kernel:
// the terminal at the pane's size with its history, instances told apart by
// id, what needs attention and why, errors in words, and the layout at 1400x900.
import { createHarness, ECHO_AGENT, type Harness } from "@tmux-claude/testkit";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { dashboard, type DashboardApi } from "@tmux-claude/plugin-dashboard";
import { launchChromium } from "./browser.js";

/** Set TC_DASHBOARD_SHOTS to a directory to keep a screenshot after each test (to look at the layout). */
const SHOTS = process.env.TC_DASHBOARD_SHOTS;

let browser: Browser;
let harness: Harness;
let page: Page;
const notFound: string[] = [];

const row = (id: string) => `[data-testid="tree"] [data-id="${id}"]`;
const terminalText = () => page.evaluate(() => (window as unknown as { dashboard: { terminalText(): string } }).dashboard.terminalText());

beforeAll(async () => {
  browser = await launchChromium();
  harness = await createHarness(
    {
      plugins: [dashboard({ port: 0 })],
      // The echo agent whose "/ask" question is recognised as waiting for an answer.
      agents: { asker: { adapter: "command", command: process.execPath, args: [ECHO_AGENT], waitingPattern: "Proceed\\? \\(y/n\\) *$" } },
    },
    { label: "dash-ux" },
  );
  const api = harness.kernel.plugin<DashboardApi>("dashboard")!;
  await api.listening();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on("response", (response) => {
    if (response.status() === 404) notFound.push(response.url());
  });
  await page.goto(api.url()!);
  await page.waitForSelector('[data-testid="connection"][data-state="connected"]', { timeout: 5_000 });
});

afterEach(async (context) => {
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/${context.task.name.slice(0, 40).replace(/\W+/gu, "-")}.png` });
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

  it("tells unnamed instances apart by id, and says why one needs you", async () => {
    const first = (await harness.kernel.spawn({ role: "specialist", workDir: harness.workDir, agent: "asker" })).instance;
    const second = (await harness.kernel.spawn({ role: "specialist", workDir: harness.workDir })).instance;
    for (const id of [first.id, second.id]) {
      await page.waitForSelector(row(id), { timeout: 10_000 });
      expect(await page.locator(row(id)).getByTestId("id").textContent()).toBe(id);
    }
    await harness.kernel.send(first.id, "/ask");
    const attention = page.locator(`[data-testid="attention"] [data-id="${first.id}"]`);
    await page.waitForSelector(`[data-testid="attention"] [data-id="${first.id}"][data-attention="0"]`, { timeout: 10_000 });
    expect(await attention.getByTestId("id").textContent()).toBe(first.id);
    expect(await attention.getByTestId("reason").textContent()).not.toBe("");
  });

  it("offers Restart, not Send, for an exited instance, and clears the last result when another instance is selected", async () => {
    const { instance: live } = await harness.kernel.spawn({ role: "specialist", name: "live", workDir: harness.workDir });
    const { instance: gone } = await harness.kernel.spawn({ role: "specialist", name: "gone", workDir: harness.workDir });
    await page.waitForSelector(`${row(live.id)}[data-status="idle"]`, { timeout: 10_000 });
    await page.locator(row(live.id)).click();
    await page.getByTestId("action-text").fill("before switching");
    await page.getByTestId("action-send").click();
    await page.getByTestId("confirm-ok").click();
    await page.waitForFunction(() => /^Send: delivered/u.test(document.querySelector('[data-testid="action-result"]')?.textContent ?? ""), undefined, { timeout: 10_000 });

    await harness.kernel.send(gone.id, "/exit");
    await page.waitForSelector(`${row(gone.id)}[data-status="exited"]`, { timeout: 10_000 });
    await page.locator(row(gone.id)).click();
    await page.waitForFunction((id) => document.querySelector('[data-testid="detail-id"]')?.textContent === id, gone.id);
    expect(await page.getByTestId("action-result").textContent()).toBe("");
    expect(await page.getByTestId("action-send").isDisabled()).toBe(true);
    expect(await page.getByTestId("action-restart").isDisabled()).toBe(false);
    expect(await page.getByTestId("action-hint").textContent()).toContain("Restart it");
    expect(await page.getByTestId("terminal-caption").textContent()).toContain("the pane has ended");
  });

  it("at 1400x900 a selected instance keeps the tree and the terminal in view; ages tick in the detail too; no 404 (favicon)", async () => {
    const { instance } = await harness.kernel.spawn({ role: "specialist", name: "layout", workDir: harness.workDir });
    await page.waitForSelector(row(instance.id), { timeout: 10_000 });
    await page.locator(row(instance.id)).click();
    await page.waitForFunction((id) => document.querySelector('[data-testid="detail-id"]')?.textContent === id, instance.id);
    for (const panel of ['[data-testid="tree"]', '[data-testid="terminal"]']) {
      const box = (await page.locator(panel).boundingBox())!;
      expect(box.y + Math.min(box.height, 100), panel).toBeLessThan(900);
    }
    // The detail scrolls inside its panel instead of growing the page's first screen.
    const detail = (await page.getByTestId("detail-panel").boundingBox())!;
    expect(detail.y + detail.height).toBeLessThan(900);
    // The age header sits over its values (both right-aligned).
    const head = (await page.locator(".tree-head .age").boundingBox())!;
    const value = (await page.locator(row(instance.id)).getByTestId("age").boundingBox())!;
    expect(Math.abs(head.x + head.width - (value.x + value.width))).toBeLessThan(2);
    const before = await page.getByTestId("detail-age").textContent();
    await page.waitForFunction((shown) => document.querySelector('[data-testid="detail-age"]')?.textContent !== shown, before, { timeout: 8_000 });
    // No agent reply reported: a dash, not a promise of one.
    expect(await page.getByTestId("detail-lastReply").textContent()).toBe("—");
    expect(await page.locator('link[rel="icon"]').getAttribute("href")).toBe("/assets/favicon.svg");
    expect(notFound).toEqual([]);
  });
});
