import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { apiKeyFingerprint, claudeEnv, prepareClaudeHome, TestkitErrorCodes, trustDir } from "../src/index.js";

const KEY = "sk-ant-test-0123456789abcdefghijklmnopqrstuvwxyz";

describe("prepareClaudeHome", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "testkit-home-"));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("writes a config that skips onboarding, key approval and folder trust", async () => {
    const home = await prepareClaudeHome({ dir: join(root, "home"), apiKey: KEY, trustedDirs: [join(root, "work", "..", "work")] });
    expect(home.configDir).toBe(join(root, "home", ".claude"));
    expect(home.env).toEqual({ CLAUDE_CONFIG_DIR: home.configDir, HOME: home.dir });
    const config = JSON.parse(await readFile(home.configFile, "utf8"));
    expect(config).toEqual({
      hasCompletedOnboarding: true,
      customApiKeyResponses: { approved: [KEY.slice(-20)], rejected: [] },
      projects: { [join(root, "work")]: { hasTrustDialogAccepted: true } },
    });
    expect(apiKeyFingerprint(KEY)).toHaveLength(20);
    expect((await stat(home.configFile)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(home.settingsFile, "utf8"))).toEqual({ skipDangerousModePermissionPrompt: true });
  });

  it("merges settings and extra config, and can leave HOME alone", async () => {
    const home = await prepareClaudeHome({
      dir: join(root, "home"),
      apiKey: KEY,
      trustedDirs: [],
      settings: { hooks: { Stop: [] }, skipDangerousModePermissionPrompt: false },
      config: { theme: "dark" },
      isolateHome: false,
    });
    expect(home.env).toEqual({ CLAUDE_CONFIG_DIR: home.configDir });
    expect(JSON.parse(await readFile(home.settingsFile, "utf8"))).toEqual({ hooks: { Stop: [] }, skipDangerousModePermissionPrompt: false });
    expect(JSON.parse(await readFile(home.configFile, "utf8")).theme).toBe("dark");
  });

  it("makes a temp dir when none is given", async () => {
    const home = await prepareClaudeHome({ apiKey: KEY, trustedDirs: [] });
    try {
      expect((await stat(home.configFile)).isFile()).toBe(true);
    } finally {
      await rm(home.dir, { recursive: true, force: true });
    }
  });

  it("trustDir adds a project and keeps what Claude wrote", async () => {
    const home = await prepareClaudeHome({ dir: join(root, "home"), apiKey: KEY, trustedDirs: [join(root, "a")] });
    const config = JSON.parse(await readFile(home.configFile, "utf8"));
    config.projects[join(root, "a")].lastCost = 1;
    config.numStartups = 3;
    await writeFile(home.configFile, JSON.stringify(config));
    await trustDir(home, join(root, "b"));
    const after = JSON.parse(await readFile(home.configFile, "utf8"));
    expect(after.numStartups).toBe(3);
    expect(after.projects).toEqual({
      [join(root, "a")]: { hasTrustDialogAccepted: true, lastCost: 1 },
      [join(root, "b")]: { hasTrustDialogAccepted: true },
    });
  });

  it("says which dir is not writable", async () => {
    const file = join(root, "a-file");
    await writeFile(file, "");
    const error = await prepareClaudeHome({ dir: join(file, "home"), apiKey: KEY, trustedDirs: [] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: TestkitErrorCodes.HOME_NOT_WRITABLE });
    expect((error as Error).message).toContain(join(file, "home"));
  });

  it("refuses an empty api key", async () => {
    await expect(prepareClaudeHome({ apiKey: "", trustedDirs: [] })).rejects.toMatchObject({ code: TestkitErrorCodes.INVALID_ARGUMENT });
  });
});

describe("claudeEnv", () => {
  it("points the client at the model with the home's key and drops leaky variables", async () => {
    const root = await mkdtemp(join(tmpdir(), "testkit-env-"));
    try {
      const home = await prepareClaudeHome({ dir: root, apiKey: KEY, trustedDirs: [] });
      const env = claudeEnv({
        home,
        model: { url: "http://127.0.0.1:1234" },
        base: { PATH: "/usr/bin", ANTHROPIC_AUTH_TOKEN: "real", CLAUDECODE: "1", CLAUDE_CODE_USE_BEDROCK: "1", CLAUDE_CONFIG_DIR: "/root/.claude" },
      });
      expect(env).toEqual({
        PATH: "/usr/bin",
        HOME: root,
        CLAUDE_CONFIG_DIR: home.configDir,
        ANTHROPIC_BASE_URL: "http://127.0.0.1:1234",
        ANTHROPIC_API_KEY: KEY,
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
        DISABLE_AUTOUPDATER: "1",
        DISABLE_TELEMETRY: "1",
        DISABLE_ERROR_REPORTING: "1",
        CLAUDE_CODE_MAX_RETRIES: "0",
      });
      const sandboxed = claudeEnv({ home, model: "http://x", base: {}, sandbox: true, maxRetries: 2, extra: { FOO: "bar" } });
      expect(sandboxed).toMatchObject({ IS_SANDBOX: "1", CLAUDE_CODE_MAX_RETRIES: "2", FOO: "bar", ANTHROPIC_BASE_URL: "http://x" });
      expect(sandboxed.PATH).toBeUndefined();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
