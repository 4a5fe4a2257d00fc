// The system's Chromium, driven by playwright-core (no browser download: CI's
// .ci/run installs Debian's chromium at /usr/bin/chromium).
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM = process.env.TC_CHROMIUM ?? "/usr/bin/chromium";

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** Fails (never skips) when the browser is missing: these tests are the evidence. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not at ${CHROMIUM}: the dashboard's browser tests need it. Install it (apt-get install chromium; .ci/run does) or point TC_CHROMIUM at a Chromium binary.`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}
