/**
 * An isolated Claude Code config home for tests, so a run never reads or
 * writes the user's ~/.claude and never stops at a first-run screen.
 */
import { constants } from "node:fs";
import { access, mkdir, mkdtemp, readFile, rename, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { TestkitError, TestkitErrorCodes } from "./errors.js";

export interface PrepareClaudeHomeOptions {
  /** Where to build the home; created when missing. Defaults to a new temp dir. */
  dir?: string;
  /** The key the client will send; its last 20 characters are pre-approved. */
  apiKey: string;
  /** Workdirs whose folder-trust dialog is pre-accepted (covers everything below each). */
  trustedDirs: string[];
  /**
   * User settings (`<configDir>/settings.json`), merged over the defaults:
   * `{ skipDangerousModePermissionPrompt: true }` so `--dangerously-skip-permissions`
   * starts without its confirmation dialog.
   */
  settings?: Record<string, unknown>;
  /** Extra top-level keys for `.claude.json`, merged last. */
  config?: Record<string, unknown>;
  /**
   * Also point `HOME` at `dir` (default true), so nothing the client or its
   * tools write under `~` lands in the real home.
   */
  isolateHome?: boolean;
}

export interface ClaudeHome {
  /** The home directory (HOME when isolated). */
  dir: string;
  /** `CLAUDE_CONFIG_DIR`: `<dir>/.claude`; holds `.claude.json`, settings, transcripts. */
  configDir: string;
  /** `<configDir>/.claude.json`, the global config Claude Code reads at start. */
  configFile: string;
  /** `<configDir>/settings.json`. */
  settingsFile: string;
  apiKey: string;
  /** `CLAUDE_CONFIG_DIR` (and `HOME` when isolated). No API URL or key: see `claudeEnv`. */
  env: Record<string, string>;
}

/** Claude Code matches an approved custom key by its last 20 characters. */
export function apiKeyFingerprint(apiKey: string): string {
  return apiKey.slice(-20);
}

const DEFAULT_SETTINGS: Record<string, unknown> = { skipDangerousModePermissionPrompt: true };

async function ensureWritable(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
  } catch (error) {
    throw new TestkitError(
      TestkitErrorCodes.HOME_NOT_WRITABLE,
      `Cannot prepare a Claude home in ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}. ` +
        "Pass a writable `dir`, or omit it to use a new temp dir.",
      { cause: error },
    );
  }
}

/** Writes through a temp file and a rename, so a client starting up never reads half a file. */
async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(temp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
    await rename(temp, file);
  } catch (error) {
    throw new TestkitError(
      TestkitErrorCodes.HOME_NOT_WRITABLE,
      `Cannot write ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}. Check the directory's permissions.`,
      { cause: error },
    );
  }
}

function projectEntry(): Record<string, unknown> {
  return { hasTrustDialogAccepted: true };
}

export async function prepareClaudeHome(options: PrepareClaudeHomeOptions): Promise<ClaudeHome> {
  if (typeof options.apiKey !== "string" || options.apiKey.length === 0) {
    throw new TestkitError(TestkitErrorCodes.INVALID_ARGUMENT, "prepareClaudeHome needs a non-empty apiKey (any string works against the stand-in model).");
  }
  const dir = resolve(options.dir ?? (await mkdtemp(join(tmpdir(), "tmux-claude-home-"))));
  const configDir = join(dir, ".claude");
  await ensureWritable(dir);
  await ensureWritable(configDir);

  const projects: Record<string, unknown> = {};
  for (const trusted of options.trustedDirs) projects[resolve(trusted)] = projectEntry();
  const configFile = join(configDir, ".claude.json");
  await writeJsonAtomic(configFile, {
    hasCompletedOnboarding: true,
    customApiKeyResponses: { approved: [apiKeyFingerprint(options.apiKey)], rejected: [] },
    projects,
    ...options.config,
  });
  const settingsFile = join(configDir, "settings.json");
  await writeJsonAtomic(settingsFile, { ...DEFAULT_SETTINGS, ...options.settings });

  const env: Record<string, string> = { CLAUDE_CONFIG_DIR: configDir };
  if (options.isolateHome ?? true) env.HOME = dir;
  return { dir, configDir, configFile, settingsFile, apiKey: options.apiKey, env };
}

/**
 * Pre-accepts the folder-trust dialog for one more directory. Claude Code
 * rewrites `.claude.json` while it runs, so call this before starting the
 * client that needs it.
 */
export async function trustDir(home: ClaudeHome, dir: string): Promise<void> {
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(await readFile(home.configFile, "utf8")) as Record<string, unknown>;
  } catch (error) {
    throw new TestkitError(
      TestkitErrorCodes.INVALID_ARGUMENT,
      `Cannot read ${home.configFile}: ${(error as Error).message}. Was the home made by prepareClaudeHome?`,
      { cause: error },
    );
  }
  const projects = (config.projects ?? {}) as Record<string, Record<string, unknown>>;
  const key = resolve(dir);
  projects[key] = { ...projects[key], ...projectEntry() };
  config.projects = projects;
  await writeJsonAtomic(home.configFile, config);
}

/** Variables that would point the client at a real account, another config, or a parent session. */
const LEAKY_ENV = /^(ANTHROPIC_|CLAUDE_CODE_|CLAUDECODE$|CLAUDE_CONFIG_DIR$|AWS_BEARER_TOKEN_BEDROCK$|VERTEX_|CLOUD_ML_REGION$|DISABLE_)/;

export interface ClaudeEnvOptions {
  home: ClaudeHome;
  /** The stand-in model (or any base URL). */
  model: { url: string } | string;
  /**
   * Start from this environment (default `process.env`) minus variables that
   * would leak a real account or a parent Claude session into the test.
   * Pass `{}` for only the variables the client needs (e.g. for `tmux new-session -e`).
   */
  base?: NodeJS.ProcessEnv;
  /**
   * `CLAUDE_CODE_MAX_RETRIES`. Defaults to 0, so a scripted API error surfaces
   * at once instead of after minutes of backoff; raise it to test retries.
   */
  maxRetries?: number;
  /** Set `IS_SANDBOX=1` so `--dangerously-skip-permissions` is accepted when running as root. */
  sandbox?: boolean;
  /** Extra variables, applied last. */
  extra?: Record<string, string>;
}

/** The full environment for running the Claude Code binary against the stand-in model. */
export function claudeEnv(options: ClaudeEnvOptions): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.base ?? process.env)) {
    if (value !== undefined && !LEAKY_ENV.test(key)) env[key] = value;
  }
  Object.assign(env, options.home.env, {
    ANTHROPIC_BASE_URL: typeof options.model === "string" ? options.model : options.model.url,
    ANTHROPIC_API_KEY: options.home.apiKey,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_AUTOUPDATER: "1",
    DISABLE_TELEMETRY: "1",
    DISABLE_ERROR_REPORTING: "1",
    CLAUDE_CODE_MAX_RETRIES: String(options.maxRetries ?? 0),
  });
  if (options.sandbox) env.IS_SANDBOX = "1";
  Object.assign(env, options.extra);
  return env;
}
