import { watch } from "node:fs";
import { open } from "node:fs/promises";
import type { ModelTokens, TokenUsage } from "@tmux-claude/core";
import { LONG_CONTEXT_INPUT_TOKENS, modelUsd } from "./prices.js";

/** One API message's tokens. */
interface MessageTally {
  usage: TokenUsage;
}

/** One API message as the per-model breakdown needs it: its tokens, its model, and whether it was a long-context request. */
interface MessageTokens extends MessageTally {
  model: string;
  longContext: boolean;
}

interface FileTally {
  offset: number;
  /** Usage per API message: Claude Code writes one line per content block, each repeating the message's usage. */
  messages: Map<string, MessageTokens>;
  /** Messages without an id, one entry each. */
  anonymous: MessageTokens[];
  /** Text of the last assistant text block written so far. */
  lastText?: string;
  /** The model of the last assistant message written so far. */
  lastModel?: string;
}

interface RawUsage {
  input_tokens?: unknown;
  output_tokens?: unknown;
  cache_creation_input_tokens?: unknown;
  cache_read_input_tokens?: unknown;
}

const count = (value: unknown): number => (typeof value === "number" && Number.isFinite(value) ? value : 0);

function toUsage(raw: RawUsage): TokenUsage {
  return {
    inputTokens: count(raw.input_tokens),
    outputTokens: count(raw.output_tokens),
    cacheCreationInputTokens: count(raw.cache_creation_input_tokens),
    cacheReadInputTokens: count(raw.cache_read_input_tokens),
  };
}

function add(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheCreationInputTokens: a.cacheCreationInputTokens + b.cacheCreationInputTokens,
    cacheReadInputTokens: a.cacheReadInputTokens + b.cacheReadInputTokens,
  };
}

function addTally(a: MessageTally, b: MessageTally): MessageTally {
  return { usage: add(a.usage, b.usage) };
}

const isZero = (usage: TokenUsage): boolean => usage.inputTokens + usage.outputTokens + usage.cacheCreationInputTokens + usage.cacheReadInputTokens === 0;

export const ZERO_USAGE: TokenUsage = { inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 };
const ZERO_TALLY: MessageTally = { usage: ZERO_USAGE };

/** The model named for tokens of a message that names none (Claude Code's own "<synthetic>" notices normally have none). */
const NO_MODEL = "unknown";

/** The messages' tokens by model; long-context requests apart from the rest (they are billed at other rates). */
function byModel(messages: Iterable<MessageTokens>): ModelTokens[] {
  const models = new Map<string, ModelTokens>();
  for (const { usage, model, longContext } of messages) {
    if (isZero(usage)) continue;
    const key = `${model}\u0000${longContext}`;
    const seen = models.get(key) ?? { model, input: 0, output: 0, cacheWrite: 0, cacheRead: 0, ...(longContext ? { longContext } : {}) };
    models.set(key, {
      ...seen,
      input: seen.input + usage.inputTokens,
      output: seen.output + usage.outputTokens,
      cacheWrite: seen.cacheWrite + usage.cacheCreationInputTokens,
      cacheRead: seen.cacheRead + usage.cacheReadInputTokens,
    });
  }
  return [...models.values()];
}

/**
 * Token usage from Claude Code transcripts (JSONL, one line per message
 * part). Each file is read once and then only its new bytes, so asking often
 * stays cheap however long the conversation gets.
 */
export class TranscriptUsage {
  private readonly files = new Map<string, FileTally>();

  /**
   * The tokens of every API message in these transcripts, the model of the
   * last one, the same tokens by model, and their cost: each model's tokens
   * priced as the cost plugin prices them (modelUsd, the shipped PRICES), no
   * cost when some tokens have no price.
   */
  async total(paths: readonly string[]): Promise<TokenUsage> {
    let sum = ZERO_TALLY;
    let model: string | undefined;
    const messages: MessageTokens[] = [];
    for (const file of new Set(paths)) {
      sum = addTally(sum, await this.tally(file));
      const tally = this.files.get(file);
      model = tally?.lastModel ?? model;
      if (tally) messages.push(...tally.anonymous, ...tally.messages.values());
    }
    const models = byModel(messages);
    const usds = models.map((tokens) => modelUsd(tokens));
    const costUsd = usds.every((usd) => usd !== undefined) ? usds.reduce((a, b) => a + b, 0) : undefined;
    return { ...sum.usage, ...(model !== undefined ? { model } : {}), ...(costUsd !== undefined ? { costUsd } : {}), ...(models.length ? { models } : {}) };
  }

  /**
   * Wait (watching the file, at most `timeoutMs`) until the transcript holds
   * the reply a Stop hook reported: Claude Code may write a turn's messages
   * shortly after the hook ran.
   */
  async waitForReply(file: string, reply: string, timeoutMs: number): Promise<void> {
    const expected = reply.trim();
    if (!expected) return;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // Watch before reading, so a write between the read and the wait is not missed.
      const change = changed(file, Math.max(deadline - Date.now(), 0));
      await this.tally(file);
      const last = this.files.get(file)?.lastText?.trim();
      if ((last && (expected === last || expected.endsWith(last))) || !(await change.promise)) {
        change.close();
        return;
      }
    }
  }

  private async tally(file: string): Promise<MessageTally> {
    let tally = this.files.get(file);
    if (!tally) {
      tally = { offset: 0, messages: new Map(), anonymous: [] };
      this.files.set(file, tally);
    }
    const handle = await open(file, "r").catch(() => undefined);
    if (handle) {
      try {
        const { size } = await handle.stat();
        if (size > tally.offset) {
          const buffer = Buffer.alloc(size - tally.offset);
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, tally.offset);
          const end = buffer.subarray(0, bytesRead).lastIndexOf(0x0a);
          if (end >= 0) {
            for (const line of buffer.subarray(0, end).toString("utf8").split("\n")) this.addLine(tally, line);
            tally.offset += end + 1;
          }
        }
      } finally {
        await handle.close();
      }
    }
    let sum = ZERO_TALLY;
    for (const message of [...tally.anonymous, ...tally.messages.values()]) sum = addTally(sum, message);
    return sum;
  }

  private addLine(tally: FileTally, line: string): void {
    if (!line.includes('"usage"')) return;
    let entry: { type?: unknown; message?: { id?: unknown; model?: unknown; usage?: RawUsage; content?: unknown } };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      return;
    }
    if (entry.type !== "assistant" || !entry.message?.usage) return;
    if (Array.isArray(entry.message.content)) {
      for (const block of entry.message.content as { type?: unknown; text?: unknown }[]) {
        if (block?.type === "text" && typeof block.text === "string" && block.text.trim()) tally.lastText = block.text;
      }
    }
    const usage = toUsage(entry.message.usage);
    const model = typeof entry.message.model === "string" ? entry.message.model : undefined;
    // Claude Code writes its own notices (an API error, an interrupt) as "<synthetic>" messages: no model answered.
    if (model && model !== "<synthetic>") tally.lastModel = model;
    const longContext = usage.inputTokens + usage.cacheCreationInputTokens + usage.cacheReadInputTokens > LONG_CONTEXT_INPUT_TOKENS;
    const message: MessageTokens = { usage, model: model && model !== "<synthetic>" ? model : NO_MODEL, longContext };
    if (typeof entry.message.id === "string") tally.messages.set(entry.message.id, message);
    else tally.anonymous.push(message);
  }
}

/** Resolves true when the file changes, false after `timeoutMs` or if it cannot be watched. */
function changed(file: string, timeoutMs: number): { promise: Promise<boolean>; close: () => void } {
  let close = () => {};
  const promise = new Promise<boolean>((resolve) => {
    let watcher: ReturnType<typeof watch> | undefined;
    const done = (value: boolean) => {
      clearTimeout(timer);
      watcher?.close();
      resolve(value);
    };
    close = () => done(false);
    const timer = setTimeout(() => done(false), timeoutMs);
    try {
      watcher = watch(file, { persistent: false }, () => done(true));
      watcher.on("error", () => done(false));
    } catch {
      done(false);
    }
  });
  return { promise, close };
}
