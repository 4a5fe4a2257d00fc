// The page's files: the client build (dist/client, next to this module once
// built) and xterm from node_modules (no CDN: these machines may have no internet).
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);

/** `dist/client`: from dist/server/static.js and from src/server/static.ts (vitest) alike. */
export const CLIENT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../dist/client");

/** `/assets/vendor/<name>` -> a file of an installed package. */
const VENDOR: Record<string, { pkg: string; file: string }> = {
  "xterm.js": { pkg: "@xterm/xterm", file: "lib/xterm.js" },
  "xterm.mjs": { pkg: "@xterm/xterm", file: "lib/xterm.mjs" },
  "xterm.css": { pkg: "@xterm/xterm", file: "css/xterm.css" },
  "addon-fit.js": { pkg: "@xterm/addon-fit", file: "lib/addon-fit.js" },
  "addon-fit.mjs": { pkg: "@xterm/addon-fit", file: "lib/addon-fit.mjs" },
};

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".map": "application/json",
};

export interface StaticFile {
  body: Buffer;
  type: string;
}

export async function vendorFile(name: string): Promise<StaticFile | undefined> {
  const entry = Object.hasOwn(VENDOR, name) ? VENDOR[name] : undefined;
  if (!entry) return undefined;
  const root = path.dirname(require.resolve(`${entry.pkg}/package.json`));
  return readStatic(path.join(root, entry.file));
}

/** A file of the client build; undefined when missing or outside it (`..`). */
export async function clientFile(relative: string): Promise<StaticFile | undefined> {
  const file = path.resolve(CLIENT_DIR, relative);
  if (!file.startsWith(CLIENT_DIR + path.sep)) return undefined;
  return readStatic(file);
}

async function readStatic(file: string): Promise<StaticFile | undefined> {
  try {
    return { body: await readFile(file), type: TYPES[path.extname(file)] ?? "application/octet-stream" };
  } catch {
    return undefined;
  }
}

/** Shown instead of the page when the client was not built: the server works, the page is missing. */
export const MISSING_BUILD_PAGE = `<!doctype html><meta charset="utf-8"><title>tmux-claude dashboard</title>
<h1>The dashboard's page is not built</h1>
<p>The server runs, but <code>${"dist/client/index.html"}</code> is missing. Run <code>npm run build</code> in packages/plugin-dashboard (or at the repository root) and reload.</p>`;
