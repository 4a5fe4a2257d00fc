// The progress bar in a real Chromium against a real kernel: a report shows
// in the instance's tree row (bar and "1/3", the step as its title) and the
// details list the task list; a later report moves the bar.
import { createHarness, type Harness } from "@tmux-claude/testkit";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { dashboard, type DashboardApi } from "@tmux-claude/plugin-dashboard";
import { launchChromium } from "./browser.js";

let browser: Browser;
let harness: Harness;
let page: Page;
const row = (id: string) => `[data-testid="tree"] [data-id="${id}"]`;

beforeAll(async () => {
  browser = await launchChromium();
  harness = await createHarness({ plugins: [dashboard({ port: 0 })] }, { label: "dash-progress" });
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

it("shows a progress bar per instance in the tree and the task list in the details", async () => {
  const { instance } = await harness.kernel.spawn({ role: "specialist", workDir: harness.workDir });
  await page.waitForSelector(row(instance.id), { timeout: 10_000 });
  const cell = page.locator(`${row(instance.id)} [data-testid="progress"]`);
  expect(await cell.isHidden()).toBe(true);

  const items = [
    { text: "Read the code", state: "completed" as const },
    { text: "Write tests", state: "in_progress" as const },
    { text: "Update the README", state: "pending" as const },
  ];
  await harness.kernel.setProgress(instance.id, { done: 1, total: 3, current: "Writing tests", items, source: "tool" });
  await cell.waitFor({ state: "visible", timeout: 5_000 });
  expect(await cell.locator(".progress-text").textContent()).toBe("1/3");
  expect(await cell.getAttribute("title")).toBe("1/3: Writing tests");
  expect(await cell.locator("progress").evaluate((bar) => [(bar as HTMLProgressElement).value, (bar as HTMLProgressElement).max])).toEqual([1, 3]);

  await page.locator(row(instance.id)).click();
  const detail = page.getByTestId("progress-detail");
  await detail.waitFor({ state: "visible", timeout: 5_000 });
  expect(await detail.getByTestId("progress-items").locator("li").allTextContents()).toEqual(["✓ Read the code", "▸ Write tests", "○ Update the README"]);
  expect(await detail.textContent()).toContain("Now: Writing tests");

  await harness.kernel.setProgress(instance.id, { done: 2, total: 3, current: "Updating the README", source: "tool" });
  await page.waitForFunction((selector) => document.querySelector(`${selector} [data-testid="progress"] .progress-text`)?.textContent === "2/3", row(instance.id), { timeout: 5_000 });
  await harness.kernel.terminate(instance.id);
});
