// Auto-commit with serve running: serve sees the turn end, often before the
// sending CLI process fired `delivered`; the subject still names the turn's
// own prompt (the kernel's TurnEnded.prompt, written before the text is typed).
import { once } from "node:events";
import type { ChildProcess } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { eventually, parseJson } from "../../cli/test/helpers.js";
import { gitValue } from "../src/git/run.js";
import { gitCliEnv, type GitCliEnv } from "./cli-env.js";
import { writeFiles } from "./helpers.js";

describe("auto-commit subjects with serve running (the built CLI)", () => {
  let cli: GitCliEnv;
  let serve: ChildProcess;
  let stderr = "";
  beforeAll(async () => {
    cli = await gitCliEnv(undefined, { autoCommit: true });
    serve = cli.env.start(["--config", path.join(cli.env.dir, "git.config.mjs"), "serve", "--log-level", "info"], { config: false });
    serve.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    await eventually(() => stderr.includes('"msg":"serving"') || serve.exitCode !== null, 15_000, "serve to start");
  }, 60_000);
  afterAll(async () => {
    await cli?.run(["terminate", "--all"]).catch(() => undefined);
    if (serve && serve.exitCode === null && serve.signalCode === null) {
      serve.kill("SIGTERM");
      await once(serve, "close");
    }
    await cli?.close();
  });

  test("each short turn's commit holds its own file under its own prompt", async () => {
    const spawned = await cli.run(["spawn", "--role", "specialist", "--workdir", cli.repo, "--json"]);
    expect(spawned.code, spawned.stderr).toBe(0);
    const { id, workDir } = parseJson<{ id: string; workDir: string }>(spawned);
    const count = () => gitValue(workDir, ["rev-list", "--count", "HEAD"]).then(Number);
    const start = await count();
    for (let i = 1; i <= 5; i++) {
      await writeFiles(workDir, { [`g${i}.txt`]: `y${i}\n` });
      const sent = await cli.run(["send", id, `/work 200 y${i}`]);
      expect(sent.code, sent.stderr).toBe(0);
      await eventually(async () => (await count()) === start + i, 15_000, `the auto-commit of turn ${i}`).catch(async (error: unknown) => {
        console.log(await gitValue(workDir, ["log", "--format=%s", "--name-only"]), await gitValue(workDir, ["status", "--short"]), stderr.split("\n").filter((l) => /turn|commit|busy|idle/u.test(l)).slice(-20).join("\n"));
        throw error;
      });
    }
    for (let i = 1; i <= 5; i++) {
      const rev = `HEAD~${5 - i}`;
      expect(await gitValue(workDir, ["log", "-1", "--format=%s", rev])).toBe(`${id}: /work 200 y${i}`);
      expect(await gitValue(workDir, ["show", "--name-only", "--format=", rev])).toBe(`g${i}.txt`);
    }
  }, 120_000);
});
