/**
 * What Claude Code's screen shows, for the few things its hooks do not tell:
 * dialogs before the session starts, a permission prompt, and a turn that
 * ended without a Stop hook (Esc). Hooks stay the source of truth; this only
 * reads the bottom of the screen, where Claude Code keeps its input box,
 * footer and dialogs. Measured with Claude Code 2.1.x.
 */
export type ScreenState =
  /** "Quick safety check: Is this a project you created or one you trust?" */
  | { kind: "trust-dialog"; selected: "yes" | "no" | undefined }
  /** "WARNING: Claude Code running in Bypass Permissions mode" */
  | { kind: "bypass-dialog"; selected: "accept" | "exit" | undefined }
  /** "Detected a custom API key in your environment ... Do you want to use this API key?" */
  | { kind: "api-key-dialog" }
  /** Onboarding (theme, login method) or an explicit login request. */
  | { kind: "login"; detail: string }
  /** "Unable to connect to Anthropic services" */
  | { kind: "unreachable"; detail: string }
  /** A question with options ("Do you want to proceed?") while a turn runs. */
  | { kind: "question"; detail: string }
  /** The footer offers "esc to interrupt": a turn is running. */
  | { kind: "busy" }
  /** The input box, no dialog, no running turn. */
  | { kind: "prompt"; interrupted: boolean }
  | { kind: "unknown" };

/** How many bottom lines hold the input box, footer and dialogs. */
const BOTTOM_LINES = 16;

const TRUST = /Is this a project you created or one you trust\?|Yes, I trust this folder|Do you trust the files in this folder\?/u;
const BYPASS = /Bypass Permissions mode/u;
const BYPASS_ACCEPT = /Yes, I accept/u;
const API_KEY = /Do you want to use this API key\?|Detected a custom API key/u;
const LOGIN = /Select login method|Choose the text style|Please run \/login|Invalid API key|Not logged in|OAuth token has expired|Missing API key/u;
const UNREACHABLE = /Unable to connect to Anthropic services|Failed to connect to api\.anthropic\.com/u;
const BUSY = /esc to interrupt/iu;
const DIALOG_END = /Esc to cancel|Enter to confirm|Enter to select/u;
const SELECTED = /^\s*❯\s+(?:\d+\.\s+)?(.*)$/u;
const PROMPT = /^❯(?:\s|$)/u;
const INTERRUPTED = /Interrupted · What should Claude do instead\?|Interrupted by user/u;

function meaningful(screen: string): string[] {
  return screen.split("\n").map((line) => line.replace(/\s+$/u, "")).filter((line) => line.trim() !== "");
}

/** The option the dialog's cursor is on, if any. A `❯` at column 0 is the input box or a past prompt, not a cursor. */
function selectedOption(lines: string[]): string | undefined {
  for (const line of lines) {
    const match = SELECTED.exec(line);
    if (!match) continue;
    const option = match[1]?.trim() ?? "";
    if (!PROMPT.test(line) || /^(No, exit|Yes, I (?:trust|accept))/u.test(option)) return option;
  }
  return undefined;
}

/** The line matching `pattern` and the few after it, as one line. */
function linesFrom(lines: string[], pattern: RegExp, count = 3): string {
  const at = lines.findIndex((line) => pattern.test(line));
  return at < 0 ? "" : lines.slice(at, at + count).map((line) => line.trim()).join(" ");
}

/**
 * What the screen shows. Startup dialogs and login or network failures are
 * looked for only with `startup` (before SessionStart): later, the same words
 * may just be part of the conversation.
 */
export function classifyScreen(screen: string, options: { startup?: boolean } = {}): ScreenState {
  const all = meaningful(screen);
  const bottom = all.slice(-BOTTOM_LINES);
  const text = bottom.join("\n");
  if (options.startup) {
    const startup = classifyStartup(bottom, text);
    if (startup) return startup;
  }
  const tail = bottom.slice(-3).join("\n");
  if (DIALOG_END.test(tail)) {
    const question = [...bottom].reverse().find((line) => /\?\s*$/u.test(line));
    return { kind: "question", detail: question?.trim() ?? bottom.slice(-6).map((l) => l.trim()).join(" / ") };
  }
  const footer = all.slice(-6).join("\n");
  if (BUSY.test(footer)) return { kind: "busy" };
  if (all.slice(-5).some((line) => PROMPT.test(line))) {
    return { kind: "prompt", interrupted: INTERRUPTED.test(all.slice(-12).join("\n")) };
  }
  return { kind: "unknown" };
}

function classifyStartup(bottom: string[], text: string): ScreenState | undefined {
  if (TRUST.test(text)) {
    const selected = selectedOption(bottom);
    return { kind: "trust-dialog", selected: selected?.startsWith("Yes") ? "yes" : selected?.startsWith("No") ? "no" : undefined };
  }
  if (BYPASS.test(text) && BYPASS_ACCEPT.test(text)) {
    const selected = selectedOption(bottom);
    return { kind: "bypass-dialog", selected: selected?.startsWith("Yes") ? "accept" : selected?.startsWith("No") ? "exit" : undefined };
  }
  if (API_KEY.test(text)) return { kind: "api-key-dialog" };
  if (LOGIN.test(text)) return { kind: "login", detail: linesFrom(bottom, LOGIN) };
  if (UNREACHABLE.test(text)) return { kind: "unreachable", detail: linesFrom(bottom, UNREACHABLE) };
  return undefined;
}

const RULE = /^\s*─{10,}\s*$/u;

/**
 * The text of the input box: the lines between the last two horizontal rules
 * (the bottom lines if there are no rules). Typing or pasting changes it;
 * nothing else Claude Code draws does.
 */
export function inputBox(screen: string): string {
  const lines = screen.split("\n");
  const rules: number[] = [];
  lines.forEach((line, index) => {
    if (RULE.test(line)) rules.push(index);
  });
  if (rules.length < 2) return lines.slice(-6).join("\n");
  return lines.slice(rules[rules.length - 2]! + 1, rules[rules.length - 1]).join("\n").replace(/\s+$/u, "");
}

/** Hints Claude Code shows, dimmed, in an empty input box. */
const PLACEHOLDERS = /^(Resend your message to try again|Try ".*"|Press up to edit queued messages)$/u;

/**
 * What is typed in the input box, or "" when it is empty (a placeholder hint
 * counts as empty). After an Esc, Claude Code puts the interrupted prompt back
 * there; a person attached to the pane may have left a draft.
 */
export function draftText(screen: string): string {
  const text = inputBox(screen)
    .split("\n")
    .map((line, index) => (index === 0 ? line.replace(/^\s*❯\s?/u, "") : line))
    .join("\n")
    .trim();
  return PLACEHOLDERS.test(text) ? "" : text;
}

const PASTE_PLACEHOLDER = /\[(?:Pasted text|\.\.\.Truncated text) #\d+/u;
const VISIBLE = /[\p{L}\p{N}\p{P}\p{S}]/gu;

/**
 * Does the input box show `text` (typed or pasted)? Compared on the last
 * visible characters of its last line, whitespace ignored (Claude Code wraps
 * long lines itself); a long paste shows as a `[Pasted text #n]` placeholder.
 * Text with nothing visible counts as shown once the box changed at all.
 */
export function boxShows(screen: string, text: string, before: string): boolean {
  // Only a screen with its input box drawn counts: right after a dialog Claude Code redraws everything.
  if (inputBoxLines(screen).length === 0) return false;
  const box = inputBox(screen);
  if (box === before) return false;
  if (PASTE_PLACEHOLDER.test(box)) return true;
  const lastLine = text.replace(/\r\n?/gu, "\n").split("\n").filter((line) => line.trim() !== "").pop() ?? "";
  const probe = (lastLine.match(VISIBLE) ?? []).slice(-12).join("");
  if (!probe) return true;
  return (box.match(VISIBLE) ?? []).join("").includes(probe);
}

/** The input box's lines as drawn (blank ones included). */
export function inputBoxLines(screen: string): string[] {
  const lines = screen.split("\n");
  const rules: number[] = [];
  lines.forEach((line, index) => {
    if (RULE.test(line)) rules.push(index);
  });
  if (rules.length < 2) return [];
  return lines.slice(rules[rules.length - 2]! + 1, rules[rules.length - 1]);
}

/** The box shows `text` followed by a blank line: an Enter that became a line break. */
export function enterBecameLineBreak(screen: string, text: string): boolean {
  const lines = inputBoxLines(screen);
  return lines.length >= 2 && lines.at(-1)!.trim() === "" && boxShows(screen, text, "");
}
