// `--open` must not put the secret on a command line (ps shows every argv to
// every local user): the opener gets a file:// URL of a 0600 redirect page.
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import { openBrowser } from "../src/open-browser.js";
import { OPEN_FILE } from "../src/state-file.js";
import { eventually } from "@tmux-claude/testkit";

test("the opener's argv holds a file:// URL of a 0600 redirect page, never the token", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "tc-open-"));
  try {
    // A stand-in for xdg-open: records the argv it was started with.
    const opener = path.join(dir, "opener");
    const argvFile = path.join(dir, "argv.json");
    await writeFile(opener, `#!${process.execPath}\nrequire("node:fs").writeFileSync(${JSON.stringify(argvFile)}, JSON.stringify(process.argv.slice(2)));\n`);
    await chmod(opener, 0o700);
    const secret = "s3cr3t-token_value";
    const loginUrl = `http://127.0.0.1:3001/?token=${secret}`;
    const warnings: string[] = [];
    await openBrowser(loginUrl, dir, (message) => warnings.push(message), opener);
    const argv = await eventually(async () => JSON.parse(await readFile(argvFile, "utf8")) as string[], 10_000, "the opener's argv");
    expect(warnings).toEqual([]);
    expect(JSON.stringify(argv)).not.toContain(secret);
    expect(argv).toHaveLength(1);
    const page = fileURLToPath(argv[0]!);
    expect(page).toBe(path.join(dir, OPEN_FILE));
    expect((await stat(page)).mode & 0o077).toBe(0);
    const html = await readFile(page, "utf8");
    expect(html).toContain(`<meta http-equiv="refresh" content="0;url=${loginUrl}">`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
