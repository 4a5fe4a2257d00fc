/**
 * A sample of the paste fuzz (packages/core/test/integration/paste-fuzz.test.ts) through the
 * real Claude Code: each message is exactly one prompt (one UserPromptSubmit),
 * nothing in it runs, and the prompt is the text as the README's rules say
 * (control characters as control pictures, then Claude Code's own rewrites).
 */
import { mkdir, readdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { submittedText, typedText } from "../src/driver.js";
import { claudeInputText, hasVisibleText } from "../src/input-text.js";
import { expectedText, fuzzInputs } from "@tmux-claude/testkit/paste-fuzz";
import { createClaudeHarness, hookEvents, type ClaudeHarness } from "./helpers.js";

const SEED = 9;
const SAMPLE = 100;

let h: ClaudeHarness;
let id: string;
let canaryDir: string;
beforeAll(async () => {
  h = await createClaudeHarness();
  canaryDir = path.join(h.dir, "canary");
  await mkdir(canaryDir);
  ({ instance: { id } } = await h.kernel.spawn({ role: "executive", workDir: h.workDir }));
}, 300_000);
afterAll(async () => {
  await h?.close();
});

/** Send one message; the prompts Claude Code submitted for it (UserPromptSubmit), once the turn ended. */
async function prompts(text: string, to = id): Promise<string[]> {
  const before = (await hookEvents(h, to)).length;
  expect((await h.kernel.send(to, text)).state).toBe("delivered");
  await h.kernel.read(to, { wait: true, timeoutMs: 30_000 });
  return (await hookEvents(h, to))
    .slice(before)
    .filter((event) => event.event === "UserPromptSubmit")
    .map((event) => String(event.payload.prompt));
}

/** Text with what Claude Code rewrites on its own taken out of the comparison. */
function claudeKeeps(text: string): string {
  return text.normalize("NFC").replace(/[\u2028\u2029\u0085]/gu, "\n").replace(/[\p{Cf}\u0080-\u009f]/gu, "").trim();
}

/** Files a payload could have made: canaries and anything in the (empty) workdir. */
async function made(): Promise<string[]> {
  return [...(await readdir(canaryDir)), ...(await readdir(h.workDir))];
}

describe("through real Claude Code, one message is one prompt", () => {
  test("the text of issue 9 (ESC[201~ then CR INJECTED CR) is one prompt, also sent the moment spawn returns", async () => {
    // Claude Code turns bracketed paste on just after SessionStart; a paste before that split into two prompts.
    const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir });
    expect((await prompts("abc\x1b[201~\rINJECTED\r", instance.id)).map(submittedText)).toEqual(["abc\u241b[201~\nINJECTED"]);
    expect((await prompts("abc\x1b[201~\rINJECTED\r")).map(submittedText)).toEqual(["abc\u241b[201~\nINJECTED"]);
    await h.kernel.terminate(instance.id);
  });

  test("a message starting with ! is text, not a shell command; one that is ? is a prompt, not the help", async () => {
    const bang = `!touch ${path.join(canaryDir, "bang")}`;
    expect((await prompts(bang)).map(submittedText)).toEqual([bang]);
    expect((await prompts("?")).map(submittedText)).toEqual(["?"]);
    expect(await made()).toEqual([]);
  });

  test(`${SAMPLE} fuzzed inputs (seed ${SEED}): one prompt each, as the rules say, nothing executed`, async () => {
    // A message starting with / is a Claude Code command by design (README, Messages): not in the sample.
    const sample = [...fuzzInputs({ seed: SEED, count: 1_000, canaryDir })].filter(({ text }) => !/^\s*\//u.test(text)).slice(0, SAMPLE);
    let exact = 0;
    const rewritten: { text: string; prompt: string }[] = [];
    let refused = 0;
    for (const { text } of sample) {
      if (!hasVisibleText(claudeInputText(expectedText(text)))) {
        // Nothing Claude Code would keep: refused at once rather than typed and never submitted.
        await expect(h.kernel.send(id, text)).rejects.toMatchObject({ code: "TC_EMPTY_TEXT" });
        refused++;
        continue;
      }
      const submitted = await prompts(text);
      expect(submitted.length, JSON.stringify(text)).toBe(1);
      expect(await made(), JSON.stringify(text)).toEqual([]);
      const got = submittedText(submitted[0]!);
      const want = typedText(claudeInputText(expectedText(text)));
      if (got === want) exact++;
      else rewritten.push({ text, prompt: submitted[0]! });
      // What Claude Code itself rewrites (README, Messages): NFC, U+2028/U+2029/U+0085 as line breaks,
      // invisible format characters and C1 controls removed.
      expect(claudeKeeps(got), JSON.stringify(text)).toBe(claudeKeeps(want));
    }
    console.info(`[claude paste-fuzz] ${sample.length} inputs: ${refused} refused as empty, ${sample.length - refused} one prompt each, ${exact} exact, ${rewritten.length} with Claude Code's own rewrites ${JSON.stringify(rewritten).slice(0, 1000)}`);
  }, 600_000);
});
