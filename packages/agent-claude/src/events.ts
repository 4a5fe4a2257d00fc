import { watch, type FSWatcher } from "node:fs";
import { open } from "node:fs/promises";
import type { Logger } from "@tmux-claude/core";

/**
 * One line the hook command (hook.ts) appended: the event's name from the
 * generated settings, the launch id from the agent's environment, and the
 * hook's JSON as Claude Code gave it.
 */
export interface HookEvent {
  event: string;
  /** `TMUX_CLAUDE_LAUNCH` of the process whose hook wrote the line ("" or null when unset). */
  launch: string | null;
  payload: HookPayload;
}

/** The fields of a hook's input the adapter reads (Claude Code sends more). */
export interface HookPayload {
  hook_event_name?: string;
  session_id?: string;
  transcript_path?: string;
  cwd?: string;
  /** SessionStart: startup, resume, clear, compact, fork. */
  source?: string;
  /** UserPromptSubmit. */
  prompt?: string;
  /** Stop, StopFailure. */
  last_assistant_message?: string;
  /** StopFailure: rate_limit, authentication_failed, server_error, ... */
  error?: string;
  error_details?: string;
  /** Notification. */
  message?: string;
  notification_type?: string;
  title?: string;
  /** PreToolUse, PostToolUse, PostToolUseFailure: the tool and its input (Bash: command, timeout in ms, run_in_background). */
  tool_name?: string;
  tool_input?: unknown;
  /** PostToolUse: the tool's result. */
  tool_response?: unknown;
  /** SessionEnd: clear, resume, logout, prompt_input_exit, other. */
  reason?: string;
  /** PostToolUse of a subagent's tool call (the `Agent` tool): which subagent, and its kind. */
  agent_id?: string;
  agent_type?: string;
  [key: string]: unknown;
}

/**
 * Follows an append-only JSONL file from a byte offset: an inotify watch
 * (`fs.watch`) says the file grew, and only the new complete lines are read.
 * No polling; a half-written last line waits for its newline.
 */
export class EventLog {
  private watcher: FSWatcher | undefined;
  private reading: Promise<void> | undefined;
  private again = false;
  private closed = false;

  constructor(
    private readonly file: string,
    private offset: number,
    private readonly onEvents: (events: HookEvent[], offset: number) => void,
    private readonly logger: Logger,
  ) {}

  /** Start following; resolves once what the file already holds was handed over. */
  start(): Promise<void> {
    try {
      this.watcher = watch(this.file, { persistent: false }, () => this.read());
      this.watcher.on("error", (error) => this.logger.debug({ err: error, file: this.file }, "event log watch ended"));
    } catch (error) {
      // The instance's directory is gone (terminated): there is nothing left to follow.
      this.logger.warn({ err: error, file: this.file }, "cannot watch the hook event log; state comes from the screen only");
    }
    // Whatever was appended before the watch started.
    return this.read();
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
  }

  /** Read what is new; one read at a time, and one more if the file grew meanwhile. */
  private read(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.reading) {
      this.again = true;
      return this.reading;
    }
    this.again = false;
    this.reading = this.readNew()
      .catch((error: unknown) => this.logger.debug({ err: error, file: this.file }, "reading the hook event log failed"))
      .finally(() => {
        this.reading = undefined;
        if (this.again) void this.read();
      });
    return this.reading;
  }

  private async readNew(): Promise<void> {
    const handle = await open(this.file, "r");
    try {
      const { size } = await handle.stat();
      if (size < this.offset) {
        this.logger.warn({ file: this.file, size, offset: this.offset }, "the hook event log shrank; reading it from the start");
        this.offset = 0;
      }
      if (size === this.offset) return;
      const buffer = Buffer.alloc(size - this.offset);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.offset);
      const end = buffer.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (end < 0) return;
      const events: HookEvent[] = [];
      for (const line of buffer.subarray(0, end).toString("utf8").split("\n")) {
        if (!line.trim()) continue;
        try {
          const parsed = JSON.parse(line) as HookEvent;
          if (parsed && typeof parsed.event === "string" && typeof parsed.payload === "object" && parsed.payload !== null) events.push(parsed);
          else this.logger.debug({ line: line.slice(0, 200) }, "ignored a malformed hook event");
        } catch {
          this.logger.debug({ line: line.slice(0, 200) }, "ignored an unparsable hook event");
        }
      }
      this.offset += end + 1;
      if (!this.closed) this.onEvents(events, this.offset);
    } finally {
      await handle.close();
    }
  }
}
