// The built CLI with the git plugin in a config of its own, and a repository in
// its work dir: for tests that run `tmux-claude` as a user would. The config
// sits outside this workspace and imports "@tmux-claude/plugin-git" by name, as
// a user's does: the CLI resolves the plugins it ships (its dist).
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { createEnv, type RunResult, type TestEnv } from "../../cli/test/helpers.js";
import { makeRepo } from "./helpers.js";

export interface GitCliEnv {
  readonly env: TestEnv;
  /** The repository made in the env's work dir. */
  readonly repo: string;
  /** `tmux-claude --config <git config> ...args`. */
  run(args: string[]): Promise<RunResult>;
  close(): Promise<void>;
}

/** `git(options)` in the config: an object (as JSON) or the options' source text. */
export async function gitCliEnv(files?: Record<string, string>, gitOptions: string | object = "{}"): Promise<GitCliEnv> {
  const optionsSource = typeof gitOptions === "string" ? gitOptions : JSON.stringify(gitOptions);
  const env = await createEnv();
  const repo = await makeRepo(env.workDir, files);
  const configFile = path.join(env.dir, "git.config.mjs");
  const base = (await readFile(env.configFile, "utf8")).replace(/^export default /u, "").replace(/;\s*$/u, "");
  await writeFile(configFile, `import { git } from "@tmux-claude/plugin-git";\nconst base = ${base};\nexport default { ...base, plugins: [git(${optionsSource})] };\n`);
  return {
    env,
    repo,
    run: (args) => env.run(["--config", configFile, ...args], { config: false, timeoutMs: 60_000 }),
    close: () => env.close(),
  };
}
