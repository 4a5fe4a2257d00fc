/**
 * The command Claude Code runs for each hook event of an instance: it appends
 * one line `{"event","launch","payload"}` to the instance's `events.jsonl`,
 * which the kernel follows (events.ts). The file is the channel, so state is
 * tracked whether or not `tmux-claude serve` runs.
 *
 * Every turn waits for this command, so it starts no runtime: it is a POSIX
 * `sh` program given whole to Claude Code's `/bin/sh -c` (no script file, so
 * no path to quote or to lose when the package moves), whose only programs
 * are `tr` and `dd`: a few ms per event, where a Node script took 30-80 ms.
 *
 * Lines of concurrent hooks must stay whole, so each line reaches the file in
 * ONE write() on an O_APPEND descriptor. The shell's own printf writes a long
 * line in buffer-sized pieces (8 KiB in dash) and cat in 128 KiB pieces; POSIX
 * dd given separate ibs and obs collects its input into output blocks of obs
 * bytes and writes each block once (GNU, BSD/macOS and busybox dd alike), so a
 * line of up to 64 MiB is one write.
 */

/**
 * Hook events the generated settings register; each appends one line to the
 * instance's event log. The tool events show a busy agent alive (a stall
 * watcher counts them, not the spinner's output) and say when a Bash command
 * may run silent until its timeout.
 */
export const HOOK_EVENTS = ["SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "PostToolUseFailure", "Stop", "StopFailure", "Notification", "SessionEnd"] as const;
export type HookEventName = (typeof HOOK_EVENTS)[number];

/** The variable that tells the hook where to append (set in the agent's environment, which its hooks inherit). */
export const EVENTS_ENV = "TMUX_CLAUDE_EVENTS";
/** The variable naming this launch, so events of an earlier process of the same instance are told apart. */
export const LAUNCH_ENV = "TMUX_CLAUDE_LAUNCH";

/** The largest line written in one piece (dd's output block). */
export const HOOK_LINE_MAX_BYTES = 64 * 1024 * 1024;

/**
 * The hook command of one event. It prints nothing (SessionStart and
 * UserPromptSubmit stdout would reach the model) and exits 0 whatever
 * happens, so it can neither feed text to the model nor fail a turn.
 */
export function hookCommand(event: HookEventName): string {
  return [
    // Nothing on stderr either: a failed redirection would print there.
    "exec 2>/dev/null",
    `e=$${EVENTS_ENV}`,
    "case $e in /*) ;; *) exit 0 ;; esac",
    // The instance is gone (terminated, its directory removed): write nothing.
    '[ -d "${e%/*}" ] || exit 0',
    `l=$${LAUNCH_ENV}`,
    // A UUID of ours; anything else would need JSON escaping, so it is dropped (the kernel then ignores the line).
    "case $l in *[!0-9A-Za-z-]*) l= ;; esac",
    // Claude Code sends its JSON on one line; a raw line break can only be whitespace between JSON tokens, so deleting it keeps the JSON valid.
    // tr in the C locale works on bytes, whatever the user's locale makes of them.
    `{ printf '{"event":"${event}","launch":"%s","payload":' "$l"; LC_ALL=C tr -d '\\n'; printf '}\\n'; } | dd ibs=65536 obs=${HOOK_LINE_MAX_BYTES} >>"$e"`,
    "exit 0",
  ].join("\n");
}
