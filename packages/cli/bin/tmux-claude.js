#!/usr/bin/env node
// The `tmux-claude` command. This file is committed rather than built, so npm
// links it on the very first install of a checkout, before dist/ exists (npm
// links no bin whose file is missing and never looks again).
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const entry = new URL("../dist/bin.js", import.meta.url);
if (!existsSync(entry)) {
  const root = path.resolve(fileURLToPath(import.meta.url), "../../../..");
  process.stderr.write(
    `error: tmux-claude is not built: ${fileURLToPath(entry)} does not exist.\n` +
      `Build it in the checkout: cd ${root} && npm run build\n`,
  );
  process.exit(1);
}
await import(entry.href);
