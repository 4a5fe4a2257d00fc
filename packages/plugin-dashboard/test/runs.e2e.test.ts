// The Runs view in a real Chromium: a workflow run for real (echo agent,
// the workflows plugin's api) shows up live, finishes failed with where and
// why, and its journal plays back step by step with the player.
import { fileURLToPath } from "node:url";
import { createHarness, type Harness } from "@tmux-claude/testkit";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dashboard, type DashboardApi } from "@tmux-claude/plugin-dashboard";
import { launchChromium } from "./browser.js";
import { SECRET, startTiny, workflows, workflowsApi } from "./workflow-fixture.js";

const SCREENSHOT = fileURLToPath(new URL("../../../test-results/dashboard-runs.png", import.meta.url));

let browser: Browser;
let harness: Harness;
let page: Page;
let runId = "";
const pageErrors: string[] = [];
const cspViolations: string[] = [];

const runRow = (id: string) => `[data-testid="runs"] [data-id="${id}"]`;
const stepRow = (step: string) => `[data-testid="run-steps"] [data-step="${step}"]`;

beforeAll(async () => {
  browser = await launchChromium();
  harness = await createHarness({ plugins: [dashboard({ port: 0 }), workflows()] }, { label: "dash-runs" });
  const api = harness.kernel.plugin<DashboardApi>("dashboard")!;
  await api.listening();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("console", (message) => {
    if (/Content Security Policy/iu.test(message.text())) cspViolations.push(message.text());
  });
  await page.goto(api.url()!);
  await page.waitForSelector('[data-testid="connection"][data-state="connected"]', { timeout: 5_000 });
});

afterAll(async () => {
  await browser?.close();
  await harness?.close();
});

describe("Runs view in Chromium", () => {
  it("a run started while the page is open appears live, then shows failed with the step and the reason", async () => {
    expect(await page.getByTestId("runs-panel").isVisible()).toBe(true);
    const run = await startTiny(harness);
    runId = run.id;
    await page.waitForSelector(runRow(runId), { timeout: 5_000 });
    await run.done;
    await page.waitForSelector(`${runRow(runId)}[data-state="failed"]`, { timeout: 5_000 });
    const [stored] = await workflowsApi(harness).runs();
    const row = page.locator(runRow(runId));
    expect(await row.getByTestId("run-workflow").textContent()).toBe("tiny");
    expect(await row.getByTestId("run-failure").textContent()).toBe(`failed at test: ${stored!.failure!.reason}`);
    expect(await row.getByTestId("run-duration").textContent()).toMatch(/^\d+(\.\d)? s$/u);
  });

  it("selected, its journal plays back through the steps in order at 10x, and the failed step shows its reason", async () => {
    await page.locator(runRow(runId)).click();
    await page.getByTestId("run-detail").waitFor({ state: "visible", timeout: 5_000 });
    // Loaded at its end: every step as it finished.
    const total = Number(await page.getByTestId("run-scrubber").getAttribute("max"));
    expect(total).toBeGreaterThan(8);
    expect(await page.getByTestId("run-position").textContent()).toBe(`${total} / ${total} events`);
    expect(await page.locator(stepRow("test")).getAttribute("data-state")).toBe("failed");

    // The scrubber at 0: nothing has started yet.
    await page.getByTestId("run-scrubber").fill("0");
    expect(await page.locator('[data-testid="run-step"]').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.state))).toEqual(["pending", "pending", "pending"]);
    expect(await page.getByTestId("run-outcome").textContent()).toBe("");

    // Record every state each step passes through while it plays.
    await page.evaluate(() => {
      const seen: string[] = [];
      const record = () => {
        for (const row of document.querySelectorAll<HTMLElement>('[data-testid="run-step"]')) {
          const entry = `${row.dataset.step}:${row.dataset.state}`;
          if (!seen.includes(entry)) seen.push(entry);
        }
      };
      new MutationObserver(record).observe(document.querySelector('[data-testid="run-steps"]')!, { childList: true, subtree: true, attributes: true });
      Object.assign(window, { seenSteps: seen });
    });
    await page.getByTestId("run-speed").selectOption("10");
    await page.getByTestId("run-play").click();
    expect(await page.getByTestId("run-play").textContent()).toBe("Pause");
    await page.waitForFunction((n) => document.querySelector<HTMLElement>('[data-testid="run-player"]')?.dataset.shown === String(n), total, { timeout: 20_000 });
    await page.waitForFunction(() => document.querySelector('[data-testid="run-play"]')?.textContent === "Play", undefined, { timeout: 5_000 });
    const seen = (await page.evaluate(() => (window as unknown as { seenSteps: string[] }).seenSteps)).filter((entry) => !entry.endsWith(":pending"));
    expect(seen).toEqual(["build:running", "build:succeeded", "check:running", "check:succeeded", "test:running", "test:failed"]);

    const reason = await page.locator(stepRow("test")).getByTestId("run-step-reason").textContent();
    expect(reason).toBeTruthy();
    expect(await page.getByTestId("run-outcome").textContent()).toBe(`failed at test: ${reason}`);
    expect(await page.locator(stepRow("build")).getByTestId("run-task").textContent()).toMatch(/\(specialist\) completed/u);
    expect(await page.getByTestId("run-event").textContent()).toContain("run-finished");
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it("a run selected while it runs follows its journal live: steps start and finish on the page without a click", async () => {
    // Busy 3 s, so the run is surely still in its first step when selected.
    const run = await startTiny(harness, 3_000);
    await page.waitForSelector(`${runRow(run.id)}[data-state="running"]`, { timeout: 5_000 });
    // Newest first.
    expect(await page.locator('[data-testid="runs"] [data-testid="run-row"]').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.id))).toEqual([run.id, runId]);
    // By keyboard this time, like the tree's rows.
    await page.locator(runRow(run.id)).focus();
    await page.keyboard.press("Enter");
    await page.waitForSelector(`${stepRow("build")}[data-state="running"]`, { timeout: 5_000 });
    expect(await page.locator(stepRow("test")).getAttribute("data-state")).toBe("pending");
    const before = Number(await page.getByTestId("run-scrubber").getAttribute("max"));
    await run.done;
    await page.waitForSelector(`${stepRow("test")}[data-state="failed"]`, { timeout: 10_000 });
    // run-finished is the journal's last line, written after the run's final state: the page still gets it.
    await page.waitForFunction(() => document.querySelector('[data-testid="run-event"]')?.textContent?.includes("run-finished"), undefined, { timeout: 10_000 });
    const after = Number(await page.getByTestId("run-scrubber").getAttribute("max"));
    expect(after).toBeGreaterThan(before);
    expect(await page.getByTestId("run-position").textContent()).toBe(`${after} / ${after} events`);
  });

  it("instant jumps to the end; the page never holds a variable's value; no page errors or CSP violations", async () => {
    await page.getByTestId("run-scrubber").fill("2");
    await page.getByTestId("run-speed").selectOption("instant");
    await page.getByTestId("run-play").click();
    const total = await page.getByTestId("run-scrubber").getAttribute("max");
    expect(await page.getByTestId("run-player").getAttribute("data-shown")).toBe(total);
    expect(await page.content()).not.toContain(SECRET);
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  });
});
