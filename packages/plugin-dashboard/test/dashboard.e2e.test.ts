// The dashboard in a real Chromium against a real kernel (a private tmux
// socket, echo agents) and the real CLI: the "Done when" list.
import { execFile } from "node:child_process";
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { FileStore } from "@tmux-claude/core";
import { createHarness, ECHO_AGENT, type Harness } from "@tmux-claude/testkit";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dashboard, type DashboardApi } from "@tmux-claude/plugin-dashboard";
import { launchChromium } from "./browser.js";

const execFileAsync = promisify(execFile);
const CLI_BIN = fileURLToPath(new URL("../../cli/dist/bin.js", import.meta.url));
const SCREENSHOT = fileURLToPath(new URL("../../../test-results/dashboard.png", import.meta.url));

let browser: Browser;
let harness: Harness;
let page: Page;
let loginUrl: string;
let origin: string;
let configFile: string;
const pageErrors: string[] = [];
const cspViolations: string[] = [];

/** The real CLI, as a person runs it, against the harness's socket and store. */
async function cli(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(process.execPath, [CLI_BIN, "--config", configFile, ...args], { cwd: harness.workDir, timeout: 30_000 });
  return stdout;
}

const row = (id: string) => `[data-testid="tree"] [data-id="${id}"]`;

async function waitStatus(id: string, status: string): Promise<void> {
  await page.waitForSelector(`${row(id)}[data-status="${status}"]`, { timeout: 10_000 });
}

async function confirmDialog(): Promise<string> {
  const dialog = page.getByTestId("confirm-dialog");
  await dialog.waitFor({ state: "visible", timeout: 5_000 });
  const title = (await page.getByTestId("confirm-title").textContent()) ?? "";
  await page.getByTestId("confirm-ok").click();
  await dialog.waitFor({ state: "hidden", timeout: 5_000 });
  return title;
}

beforeAll(async () => {
  // The browser first: a missing Chromium fails here with what to install.
  browser = await launchChromium();
  harness = await createHarness(
    {
      plugins: [dashboard({ port: 0 })],
      agents: {
        // The echo agent whose "/ask" question is recognised as waiting for an answer.
        asker: { adapter: "command", command: process.execPath, args: [ECHO_AGENT], waitingPattern: "Proceed\\? \\(y/n\\) *$" },
      },
    },
    { label: "dash-e2e" },
  );
  const api = harness.kernel.plugin<DashboardApi>("dashboard");
  if (!api) throw new Error("the dashboard plugin did not register its api");
  await api.listening();
  loginUrl = api.url() ?? "";
  origin = new URL(loginUrl).origin;
  const { plugins: _plugins, ...settings } = harness.userConfig;
  configFile = path.join(harness.dir, "tmuxclaude.config.mjs");
  writeFileSync(configFile, `export default ${JSON.stringify(settings, null, 2)};\n`);
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("console", (message) => {
    if (/Content Security Policy/iu.test(message.text())) cspViolations.push(message.text());
  });
});

afterAll(async () => {
  await browser?.close();
  await harness?.close();
});

describe("dashboard in Chromium", () => {
  it("the printed URL signs in: the secret becomes an HttpOnly SameSite=Strict cookie and the page connects", async () => {
    const token = new URL(loginUrl).searchParams.get("token");
    expect(token).toBeTruthy();
    await page.goto(loginUrl);
    expect(new URL(page.url()).search).toBe("");
    await page.waitForSelector('[data-testid="connection"][data-state="connected"]', { timeout: 5_000 });
    const cookies = await page.context().cookies(origin);
    expect(cookies.length).toBe(1);
    expect(cookies[0]).toMatchObject({ httpOnly: true, sameSite: "Strict" });
    expect(await page.content()).not.toContain(token);
  });

  let alpha = "";
  it("an instance spawned from the CLI appears in the tree within 1 s, without a reload", async () => {
    await page.evaluate(() => Object.assign(window, { loadedOnce: true }));
    const spawned = JSON.parse(await cli("spawn", "specialist", "--name", "alpha", "--agent", "asker", "--json")) as { id: string };
    alpha = spawned.id;
    const start = Date.now();
    await page.waitForSelector(row(alpha), { timeout: 1_000 });
    expect(Date.now() - start).toBeLessThan(1_000);
    expect(await page.evaluate(() => (window as unknown as { loadedOnce?: boolean }).loadedOnce)).toBe(true);
    expect(await page.locator(row(alpha)).getByTestId("name").textContent()).toBe("alpha (specialist)");
  });

  it("its status changes show live; a waiting instance tops the attention list and the title says it needs you", async () => {
    await waitStatus(alpha, "idle");
    await harness.kernel.send(alpha, "/work 1500");
    await waitStatus(alpha, "busy");
    await waitStatus(alpha, "idle");
    await harness.kernel.send(alpha, "/ask");
    await waitStatus(alpha, "waiting");
    await page.waitForFunction((id) => document.querySelector('[data-testid="attention"] li')?.getAttribute("data-id") === id, alpha, { timeout: 5_000 });
    await page.waitForFunction(() => document.title.startsWith("(1) needs you"), undefined, { timeout: 5_000 });
  });

  it("the answer action (confirmed in the dialog) answers the waiting instance", async () => {
    await page.locator(row(alpha)).click();
    await page.getByTestId("action-answer").waitFor({ state: "visible", timeout: 5_000 });
    await page.getByTestId("action-text").fill("y");
    await page.getByTestId("action-answer").click();
    expect(await confirmDialog()).toContain("Answer");
    await waitStatus(alpha, "idle");
    await page.waitForFunction(() => !document.title.includes("needs you"), undefined, { timeout: 5_000 });
    expect(await page.getByTestId("action-error").textContent()).toBe("");
  });

  it("text printed by the echo agent appears in its terminal view", async () => {
    await page.waitForFunction((id) => document.querySelector('[data-testid="terminal"]')?.getAttribute("data-id") === id, alpha);
    // The screen sent on open holds what the agent printed before the terminal was opened.
    await page.waitForFunction(() => (window as unknown as { dashboard: { terminalText(): string } }).dashboard.terminalText().includes("answered"), undefined, { timeout: 5_000 });
    await harness.kernel.send(alpha, "hello terminal 42");
    await page.waitForFunction(() => (window as unknown as { dashboard: { terminalText(): string } }).dashboard.terminalText().includes("echo: hello terminal 42"), undefined, { timeout: 5_000 });
    // And xterm drew it: the rows in the DOM, not only its buffer.
    await page.waitForFunction(() => document.querySelector('[data-testid="terminal"] .xterm-rows')?.textContent?.includes("echo: hello terminal 42"), undefined, { timeout: 5_000 });
  });

  it("send from the page, confirmed in the dialog, reaches the agent and the timeline", async () => {
    await waitStatus(alpha, "idle");
    await page.getByTestId("action-text").fill("sent from the page");
    await page.getByTestId("action-send").click();
    expect(await confirmDialog()).toContain(`Send to alpha (specialist) ${alpha}`);
    await page.waitForFunction(() => /^Send: delivered at /u.test(document.querySelector('[data-testid="action-result"]')?.textContent ?? ""), undefined, { timeout: 10_000 });
    await page.waitForFunction(() => (window as unknown as { dashboard: { terminalText(): string } }).dashboard.terminalText().includes("echo: sent from the page"), undefined, { timeout: 5_000 });
    await page.locator('[data-testid="timeline"] [data-state="delivered"]', { hasText: "sent from the page" }).waitFor({ timeout: 5_000 });
  });

  it("a send from the CLI appears in the timeline with its receipt", async () => {
    await waitStatus(alpha, "idle");
    await cli("send", alpha, "a note from the CLI");
    const entry = page.locator('[data-testid="timeline"] [data-testid="message"]', { hasText: "a note from the CLI" });
    await entry.waitFor({ timeout: 5_000 });
    await page.waitForFunction(
      () => [...document.querySelectorAll('[data-testid="timeline"] [data-testid="message"]')].some((item) => item.textContent?.includes("a note from the CLI") && item.getAttribute("data-state") === "delivered"),
      undefined,
      { timeout: 5_000 },
    );
    expect(await entry.getAttribute("data-to")).toBe(alpha);
    expect(await entry.getByTestId("message-state").textContent()).toMatch(/^delivered /u);
  });

  it("restart, confirmed in the dialog, gives the instance a new pane and its terminal view follows it", async () => {
    const terminalText = () => page.evaluate(() => (window as unknown as { dashboard: { terminalText(): string } }).dashboard.terminalText());
    expect(await terminalText()).toContain("echo: hello terminal 42");
    await page.getByTestId("action-restart").click();
    expect(await confirmDialog()).toContain(`Restart alpha (specialist) ${alpha}`);
    await page.waitForFunction(() => /^Restarted /u.test(document.querySelector('[data-testid="action-result"]')?.textContent ?? ""), undefined, { timeout: 15_000 });
    await waitStatus(alpha, "idle");
    // The old pane's text is gone: the view streams the new pane from its first screen.
    await page.waitForFunction(
      () => {
        const text = (window as unknown as { dashboard: { terminalText(): string } }).dashboard.terminalText();
        return text.includes("echo-agent ready") && !text.includes("hello terminal 42");
      },
      undefined,
      { timeout: 10_000 },
    );
    await harness.kernel.send(alpha, "after the restart");
    await page.waitForFunction(() => (window as unknown as { dashboard: { terminalText(): string } }).dashboard.terminalText().includes("echo: after the restart"), undefined, { timeout: 5_000 });
  });

  it("an action the server refuses shows the server's message, and the page keeps working", async () => {
    const { instance: beta } = await harness.kernel.spawn({ role: "manager", name: "beta", workDir: harness.workDir });
    await harness.kernel.spawn({ role: "specialist", name: "beta-child", parentId: beta.id, workDir: harness.workDir });
    await waitStatus(beta.id, "idle");
    await page.locator(row(beta.id)).click();
    // Without "with its subtree" the kernel refuses: it has a child.
    await page.getByTestId("action-terminate").click();
    await confirmDialog();
    await page.waitForFunction(() => /^Terminate failed: \S/u.test(document.querySelector('[data-testid="action-error"]')?.textContent ?? ""), undefined, { timeout: 10_000 });
    await page.waitForSelector('[data-testid="connection"][data-state="connected"]');
    await harness.kernel.terminate(beta.id, { cascade: true });
  });

  let lead: { id: string };
  let helper: { id: string };
  it("shows an instance's token usage and cost, and its subtree's", async () => {
    const { instance: leadInstance } = await harness.kernel.spawn({ role: "manager", name: "lead", workDir: harness.workDir });
    const { instance: helperInstance } = await harness.kernel.spawn({ role: "specialist", name: "helper", parentId: leadInstance.id, workDir: harness.workDir });
    await waitStatus(helperInstance.id, "idle");
    lead = leadInstance;
    helper = helperInstance;
    // As agent-claude persists what Claude Code reported (InstanceRecord.usage), through the store every process shares.
    const store = new FileStore(harness.stateDir);
    await store.init();
    try {
      const usage = (inputTokens: number, outputTokens: number, costUsd: number) => ({ inputTokens, outputTokens, cacheCreationInputTokens: 0, cacheReadInputTokens: 1_500, model: "claude-test", costUsd });
      await store.update(helper.id, (record) => ({ ...record, usage: usage(1_200, 300, 0.25) }));
      await store.update(lead.id, (record) => ({ ...record, usage: usage(800, 200, 0.5) }));
    } finally {
      await store.close();
    }
    await page.waitForFunction((id) => document.querySelector(`[data-testid="tree"] [data-id="${id}"] [data-testid="cost"]`)?.textContent === "$0.25", helper.id, { timeout: 5_000 });
    await page.locator(row(lead.id)).click();
    await page.waitForFunction(() => document.querySelector('[data-testid="detail-subtreeCostUsd"]')?.textContent === "$0.75", undefined, { timeout: 5_000 });
    expect(await page.getByTestId("detail-costUsd").textContent()).toBe("$0.50");
    expect(await page.getByTestId("detail-inputTokens").textContent()).toBe("800");
    expect(await page.getByTestId("detail-cacheReadInputTokens").textContent()).toBe("1.5k");
    expect(await page.getByTestId("detail-model").textContent()).toBe("claude-test");
    expect(await page.getByTestId("no-usage").isHidden()).toBe(true);
    // The helper's model loses its price (newer than the price table): the lead's subtree cost is a lower bound.
    const again = new FileStore(harness.stateDir);
    await again.init();
    try {
      await again.update(helper.id, (record) => ({ ...record, usage: { inputTokens: 1_200, outputTokens: 300, cacheCreationInputTokens: 0, cacheReadInputTokens: 0, model: "claude-unpriced" } }));
    } finally {
      await again.close();
    }
    await page.waitForFunction(() => document.querySelector('[data-testid="detail-subtreeCostUsd"]')?.textContent === "≥ $0.50", undefined, { timeout: 5_000 });
  });

  it("terminate with cascade, confirmed in the dialog, removes the instance and its subtree", async () => {
    // The child sits right under its parent, one level deeper (a top-level instance has depth 1).
    expect(await page.locator(row(lead.id)).evaluate((item) => (item.nextElementSibling as HTMLElement | null)?.dataset.id)).toBe(helper.id);
    const depth = (id: string) => page.locator(row(id)).evaluate((item) => (item as HTMLElement).style.getPropertyValue("--depth"));
    expect([await depth(lead.id), await depth(helper.id)]).toEqual(["1", "2"]);
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.locator(row(alpha)).click();
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
    // Dark follows the system's preference.
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const light = await background();
    await page.emulateMedia({ colorScheme: "dark" });
    expect(await background()).not.toBe(light);
    await page.screenshot({ path: SCREENSHOT.replace(/\.png$/u, "-dark.png"), fullPage: true });
    await page.emulateMedia({ colorScheme: "light" });

    await page.locator(row(lead.id)).click();
    await page.getByTestId("terminate-cascade").check();
    await page.getByTestId("action-terminate").click();
    expect(await confirmDialog()).toContain("and its subtree");
    await page.waitForSelector(row(lead.id), { state: "detached", timeout: 10_000 });
    await page.waitForSelector(row(helper.id), { state: "detached", timeout: 10_000 });
    expect((await harness.kernel.list()).map((instance) => instance.id)).not.toContain(helper.id);
  });

  it("without the secret, the page, the API and the socket are refused", async () => {
    const stranger = await browser.newContext();
    try {
      const strangerPage = await stranger.newPage();
      expect((await strangerPage.goto(`${origin}/`))?.status()).toBe(401);
      expect((await strangerPage.goto(`${origin}/?token=not-the-secret`))?.status()).toBe(401);
      expect((await stranger.request.get(`${origin}/api/session`)).status()).toBe(401);
      const socketOutcome = await strangerPage.evaluate(
        (url) =>
          new Promise<string>((resolve) => {
            const socket = new WebSocket(url);
            socket.addEventListener("open", () => resolve("open"));
            socket.addEventListener("close", () => resolve("closed"));
          }),
        `${origin.replace(/^http/u, "ws")}/api/socket`,
      );
      expect(socketOutcome).toBe("closed");
      // A forged cookie with the real cookie's name is refused too.
      const [real] = await page.context().cookies(origin);
      await stranger.addCookies([{ name: real!.name, value: "forged", url: origin }]);
      expect((await strangerPage.goto(`${origin}/`))?.status()).toBe(401);
    } finally {
      await stranger.close();
    }
  });

  it("ran without page errors or CSP violations", () => {
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  });

  it("says disconnected when the server goes away, signed out when it is back with a new secret, and its new URL signs in again", async () => {
    const port = Number(new URL(origin).port);
    await harness.kernel.close();
    await page.waitForSelector('[data-testid="connection"][data-state="disconnected"]', { timeout: 5_000 });
    expect(await page.getByTestId("connection").textContent()).toBe("disconnected from the dashboard (retrying)");
    // Nothing can reach the server meanwhile: the actions say so by being disabled, not by "Failed to fetch".
    for (const button of ["action-send", "action-restart", "action-terminate"]) expect(await page.getByTestId(button).isDisabled(), button).toBe(true);
    const restarted = await harness.startKernel({ config: { plugins: [dashboard({ port })] } });
    const api = restarted.plugin<DashboardApi>("dashboard")!;
    await api.listening();
    // The old session died with the old server: the page stops retrying and says what to do.
    await page.waitForSelector('[data-testid="connection"][data-state="signed-out"]', { timeout: 10_000 });
    expect(await page.getByTestId("connection").textContent()).toContain("tmux-claude monitor");
    await page.goto(api.url()!);
    await page.waitForSelector('[data-testid="connection"][data-state="connected"]', { timeout: 5_000 });
    await page.waitForSelector(row(alpha), { timeout: 5_000 });
  });
});
