// The built CLI with the git plugin (from dist) in a config of its own, and a
// repository in its work dir: for tests that run `tmux-claude` as a user would.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createEnv, type RunResult, type TestEnv } from "../../cli/test/helpers.js";
import { makeRepo } from "./helpers.js";

const PLUGIN_DIST = pathToFileURL(fileURLToPath(new URL("../dist/index.js", import.meta.url))).href;

export interface GitCliEnv {
  readonly env: TestEnv;
  /** The repository made in the env's work dir. */
  readonly repo: string;
  /** `tmux-claude --config <git config> ...args`. */
  run(args: string[]): Promise<RunResult>;
  close(): Promise<void>;
}

export async function gitCliEnv(files?: Record<string, string>, gitOptions = "{}"): Promise<GitCliEnv> {
  const env = await createEnv();
  const repo = await makeRepo(env.workDir, files);
  const configFile = path.join(env.dir, "git.config.mjs");
  const base = (await readFile(env.configFile, "utf8")).replace(/^export default /u, "").replace(/;\s*$/u, "");
  await writeFile(configFile, `import { git } from ${JSON.stringify(PLUGIN_DIST)};\nconst base = ${base};\nexport default { ...base, plugins: [git(${gitOptions})] };\n`);
  return {
    env,
    repo,
    run: (args) => env.run(["--config", configFile, ...args], { config: false, timeoutMs: 60_000 }),
    close: () => env.close(),
  };
}
