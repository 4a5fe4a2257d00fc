// Claude Code hook command of the tmux-claude `claude` adapter. Claude runs it
// once per hook event with the event's JSON on stdin; it appends one line
// `{"event","at","launch","payload"}` to the file named by TMUX_CLAUDE_EVENTS,
// which the kernel watches. It must be fast (every turn waits for it), print
// nothing (SessionStart/UserPromptSubmit stdout would reach the model) and
// never fail the agent: every error ends in a silent exit 0.
// Node built-ins only; no dependencies, no shell.
import { appendFileSync, readFileSync } from "node:fs";

const file = process.env.TMUX_CLAUDE_EVENTS;
if (file) {
  try {
    const input = readFileSync(0, "utf8");
    let payload;
    try {
      payload = JSON.parse(input);
    } catch {
      payload = { unparsed: input };
    }
    const line = JSON.stringify({
      event: typeof payload?.hook_event_name === "string" ? payload.hook_event_name : "unknown",
      at: new Date().toISOString(),
      launch: process.env.TMUX_CLAUDE_LAUNCH ?? null,
      payload,
    });
    // One write with O_APPEND: lines of concurrent hooks never interleave.
    appendFileSync(file, `${line}\n`);
  } catch {
    // The instance is gone (its directory removed) or the file is unwritable: not the agent's problem.
  }
}
