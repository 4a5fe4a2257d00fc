// Typing into panes: text made harmless (typeableText), as literal keys or a
// bracketed paste, and keys by name. Part of the tmux runtime, which gives it
// its command channel and its socket lock.
import { randomBytes } from "node:crypto";
import { typeableText } from "./typeable.js";

/** Text longer than this, or with line breaks or control characters, goes through a bracketed paste. */
const MAX_TYPED_LENGTH = 512;
/** Pasted text is loaded into a tmux buffer in chunks of this many UTF-16 units (escaping may double them). */
const BUFFER_CHUNK = 64 * 1024;

type Run = (...args: string[]) => Promise<string[]>;

export interface PaneInputChannel {
  /** One tmux command through the control client. */
  command: Run;
  /** Run commands that make tmux notify its clients while no connect of ours overlaps (TmuxRuntime.exclusive). */
  exclusive<T>(fn: (run: Run) => Promise<T>): Promise<T>;
}

export class PaneInput {
  /** Replies of text typed with `pipelined`, by pane, awaited by the pane's next key. */
  private readonly typedAhead = new Map<string, Promise<string[]>>();

  constructor(private readonly channel: PaneInputChannel) {}

  /**
   * Type text into a pane as `typeableText` makes it (control characters that
   * would act, `ESC[201~` among them, become visible control pictures; TAB, LF
   * and CR stay), so nothing in it can end a paste, press a key or send a
   * signal. Short single lines go as literal keys (`send-keys -l`); anything
   * else is loaded into a private buffer and pasted with bracketed paste
   * (`paste-buffer -p -r`), so line breaks stay line breaks instead of
   * submitting. Does not press Enter.
   *
   * `pipelined`: literal keys resolve once written, without waiting for tmux's
   * answer; the next `sendKey` of the pane waits for it and fails with its
   * error. Text and submit key then cost one round trip instead of two (tmux
   * runs a client's commands in order). A paste always waits.
   */
  async sendText(paneId: string, text: string, options: { pipelined?: boolean } = {}): Promise<void> {
    const typed = typeableText(text);
    if (typed.length <= MAX_TYPED_LENGTH && !/[\t\n\r]/u.test(typed)) {
      const sent = this.channel.command("send-keys", "-t", paneId, "-l", "--", typed);
      if (!options.pipelined) return sent.then(() => undefined);
      // Its failure is reported by the key that follows; unobserved, it must not reject unhandled.
      sent.catch(() => undefined);
      this.typedAhead.set(paneId, sent);
      return;
    }
    const buffer = `tc-${randomBytes(6).toString("hex")}`;
    // Setting and deleting a buffer notifies every control client (see TmuxRuntime.exclusive).
    await this.channel.exclusive(async (run) => {
      let first = true;
      for (const chunk of chunks(typed, BUFFER_CHUNK)) {
        await run("set-buffer", "-b", buffer, ...(first ? [] : ["-a"]), "--", chunk);
        first = false;
      }
      await run("paste-buffer", "-p", "-r", "-d", "-b", buffer, "-t", paneId);
    });
  }

  /** Press one key by its tmux name (`Enter`, `Escape`, `C-c`, ...). */
  async sendKey(paneId: string, key: string): Promise<void> {
    const ahead = this.typedAhead.get(paneId);
    this.typedAhead.delete(paneId);
    const pressed = this.channel.command("send-keys", "-t", paneId, key);
    await (ahead ? Promise.all([ahead, pressed]) : pressed);
  }
}

/** Split text into pieces of at most `size` UTF-16 units without cutting a surrogate pair. */
function* chunks(text: string, size: number): Generator<string> {
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + size, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    yield text.slice(start, end);
    start = end;
  }
}
