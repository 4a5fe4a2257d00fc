/**
 * Finds (and on request installs) the real Claude Code binary for tests.
 */
import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { access, mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { delimiter, dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { TestkitError, TestkitErrorCodes } from "./errors.js";

const execFileAsync = promisify(execFile);

export const CLAUDE_BIN_ENV = "TMUX_CLAUDE_CLAUDE_BIN";
const PACKAGE = "@anthropic-ai/claude-code";

export interface FindClaudeBinaryOptions {
  /** Install `@anthropic-ai/claude-code` into the cache dir when nothing is found. */
  install?: boolean;
  /**
   * An exact version or dist-tag. Found binaries of another version are
   * skipped; an install fetches this one. Defaults to any version / `latest`.
   */
  version?: string;
  /** Where node_modules lookups start. Defaults to `process.cwd()`. */
  cwd?: string;
  /**
   * Parent of the per-version install dirs. Defaults to
   * `node_modules/.cache/tmux-claude-testkit` in the nearest folder above `cwd` that has a node_modules.
   */
  cacheDir?: string;
  /** Limit for `npm install`. Defaults to 5 minutes. */
  installTimeoutMs?: number;
}

export interface ClaudeBinary {
  path: string;
  /** As reported by `<path> --version`, e.g. `2.1.197`. */
  version: string;
  /** Where it was found: `env`, `node_modules`, `cache`, `path` or `installed`. */
  source: "env" | "node_modules" | "cache" | "path" | "installed";
}

/** Platform package suffixes to try, most likely first. */
function platformSuffixes(): string[] {
  const base = `${process.platform}-${process.arch}`;
  if (process.platform !== "linux") return [base];
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  const musl = report?.header?.glibcVersionRuntime === undefined;
  return musl ? [`${base}-musl`, base] : [base, `${base}-musl`];
}

/** Candidate binaries inside one node_modules folder, in the order we trust them. */
function binariesIn(nodeModules: string): string[] {
  const exe = process.platform === "win32" ? "claude.exe" : "claude";
  return [
    ...platformSuffixes().map((suffix) => join(nodeModules, `${PACKAGE}-${suffix}`, exe)),
    // The wrapper's bin is the native binary once its postinstall ran, a stub otherwise (the version check weeds that out).
    join(nodeModules, PACKAGE, "bin", "claude.exe"),
    // Claude Code before the native builds shipped a Node script.
    join(nodeModules, PACKAGE, "cli.js"),
  ];
}

function ancestors(start: string): string[] {
  const dirs: string[] = [];
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    dirs.push(dir);
    if (dirname(dir) === dir) return dirs;
  }
}

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    if (!(await stat(file)).isFile()) return false;
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

/** Runs `<bin> --version`; the first x.y.z in its output. */
export async function claudeVersion(path: string): Promise<string> {
  const { stdout } = await execFileAsync(path, ["--version"], {
    timeout: 30_000,
    env: { ...process.env, DISABLE_AUTOUPDATER: "1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1" },
  });
  const found = /\d+\.\d+\.\d+(?:[-+][\w.]+)?/.exec(stdout);
  if (!found) throw new Error(`unexpected --version output ${JSON.stringify(stdout.trim().slice(0, 100))}`);
  return found[0];
}

/** The default cache parent: `node_modules/.cache/tmux-claude-testkit` under the nearest folder with a node_modules. */
async function defaultCacheDir(cwd: string): Promise<string> {
  for (const dir of ancestors(cwd)) {
    if (await exists(join(dir, "node_modules"))) return join(dir, "node_modules", ".cache", "tmux-claude-testkit");
  }
  return join(resolve(cwd), "node_modules", ".cache", "tmux-claude-testkit");
}

function installDirName(version: string | undefined): string {
  return `claude-${version ?? "latest"}`;
}

export async function findClaudeBinary(options: FindClaudeBinaryOptions = {}): Promise<ClaudeBinary> {
  const { version } = options;
  if (version !== undefined && !/^[\w][\w.+-]*$/.test(version)) {
    throw new TestkitError(
      TestkitErrorCodes.INVALID_ARGUMENT,
      `findClaudeBinary version must be a version or dist-tag like "2.1.197" or "latest", got ${JSON.stringify(version)}.`,
    );
  }
  const cwd = options.cwd ?? process.cwd();
  const cacheDir = resolve(options.cacheDir ?? (await defaultCacheDir(cwd)));
  const tried: string[] = [];

  /** Accepts a candidate if it runs and has the wanted version; notes why not otherwise. */
  const check = async (path: string, source: ClaudeBinary["source"]): Promise<ClaudeBinary | undefined> => {
    if (!(await isExecutableFile(path))) {
      tried.push(`${path} (${(await exists(path)) ? "not executable" : "missing"})`);
      return undefined;
    }
    let found: string;
    try {
      found = await claudeVersion(path);
    } catch (error) {
      tried.push(`${path} (--version failed: ${(error as Error).message.split("\n")[0]})`);
      return undefined;
    }
    if (version !== undefined && /^\d/.test(version) && found !== version) {
      tried.push(`${path} (version ${found}, wanted ${version})`);
      return undefined;
    }
    return { path, version: found, source };
  };

  const fromEnv = process.env[CLAUDE_BIN_ENV];
  if (fromEnv) {
    const hit = await check(resolve(fromEnv), "env");
    if (hit) return hit;
    // An explicit choice that does not work is an error, not a reason to pick something else.
    throw new TestkitError(
      TestkitErrorCodes.CLAUDE_NOT_FOUND,
      `${CLAUDE_BIN_ENV} is set but unusable: ${tried.join("; ")}. Point it at the Claude Code binary or unset it.`,
    );
  }
  tried.push(`${CLAUDE_BIN_ENV} (unset)`);

  for (const dir of ancestors(cwd)) {
    const nodeModules = join(dir, "node_modules");
    if (!(await exists(nodeModules))) continue;
    for (const candidate of binariesIn(nodeModules)) {
      if (!(await exists(candidate))) continue;
      const hit = await check(candidate, "node_modules");
      if (hit) return hit;
    }
  }
  tried.push(`node_modules/${PACKAGE}-{${platformSuffixes().join(",")}} and ${PACKAGE}/{bin/claude.exe,cli.js} above ${cwd} (none usable)`);

  const installDir = join(cacheDir, installDirName(version));
  for (const candidate of binariesIn(join(installDir, "node_modules"))) {
    if (!(await exists(candidate))) continue;
    const hit = await check(candidate, "cache");
    if (hit) return hit;
  }
  tried.push(`${installDir} (no usable install)`);

  for (const dir of (process.env.PATH ?? "").split(delimiter).filter(Boolean)) {
    const candidate = join(dir, process.platform === "win32" ? "claude.exe" : "claude");
    if (!(await exists(candidate))) continue;
    const hit = await check(candidate, "path");
    if (hit) return hit;
  }
  tried.push("`claude` on PATH (none usable)");

  if (options.install) {
    // Whatever is there did not pass the check above (half an install, a stub): start over.
    await rm(installDir, { recursive: true, force: true });
    await installClaude(installDir, version, options.installTimeoutMs ?? 5 * 60_000);
    for (const candidate of binariesIn(join(installDir, "node_modules"))) {
      if (!(await exists(candidate))) continue;
      const hit = await check(candidate, "installed");
      if (hit) return hit;
    }
    throw new TestkitError(
      TestkitErrorCodes.CLAUDE_INSTALL_FAILED,
      `npm installed ${PACKAGE}@${version ?? "latest"} into ${installDir}, but no usable binary is there: ${tried.join("; ")}. ` +
        `Is there a platform package for ${platformSuffixes()[0]}?`,
    );
  }

  throw new TestkitError(
    TestkitErrorCodes.CLAUDE_NOT_FOUND,
    `Claude Code binary not found. Tried: ${tried.join("; ")}. ` +
      `Install it (npm install -D ${PACKAGE}), set ${CLAUDE_BIN_ENV}, or call findClaudeBinary({ install: true }).`,
  );
}

/**
 * `npm install --no-save --prefix` into a fresh temp dir, then a rename into
 * place: two test workers installing at once both end up with one whole install.
 */
async function installClaude(installDir: string, version: string | undefined, timeoutMs: number): Promise<void> {
  const staging = `${installDir}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(staging, { recursive: true });
  // Our own package.json keeps npm from looking for a project further up.
  await writeFile(join(staging, "package.json"), `${JSON.stringify({ name: "tmux-claude-testkit-claude", private: true })}\n`);
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const spec = `${PACKAGE}@${version ?? "latest"}`;
  const args = ["install", "--no-save", "--no-package-lock", "--no-audit", "--no-fund", "--prefix", staging, spec];
  try {
    await execFileAsync(npm, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    const e = error as Error & { stderr?: string; killed?: boolean };
    throw new TestkitError(
      TestkitErrorCodes.CLAUDE_INSTALL_FAILED,
      `npm ${args.join(" ")} failed${e.killed ? ` (timed out after ${timeoutMs} ms)` : ""}: ${(e.stderr ?? e.message).trim().split("\n").slice(-5).join(" | ")}. ` +
        "Check network access to the npm registry, or install Claude Code yourself and set " +
        `${CLAUDE_BIN_ENV}.`,
      { cause: error },
    );
  }
  try {
    await rename(staging, installDir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    await rm(staging, { recursive: true, force: true });
    // Another worker won the race; its install is as good as ours.
    if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
  }
}
