/**
 * Bidirectional controls (ALM, LRM, RLM, the embeddings and overrides
 * U+202A-U+202E, the isolates U+2066-U+2069). Claude Code removes them from
 * the input box and then does not submit on that Enter (measured with
 * 2.1.329: `ab` + U+202E + `cd` gave no UserPromptSubmit), so they are removed
 * before typing; the prompt is what Claude Code would have kept anyway.
 */
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/**
 * The text the claude adapter types for a message (already typeable, see
 * `typeableText`): bidirectional controls removed, and a space put before a
 * leading `!` or `?`. A `!` first in an empty input box switches Claude Code
 * to shell mode and Enter then runs the rest as a shell command, without
 * asking (measured: a sent `!touch X`, typed or pasted, created X); a `?`
 * there opens the shortcuts help instead of being typed. Claude Code trims
 * the space from the prompt.
 */
export function claudeInputText(message: string): string {
  const text = message.replace(BIDI_CONTROLS, "");
  return /^[!?]/u.test(text) ? ` ${text}` : text;
}

/**
 * Does the text hold anything Claude Code keeps? It drops format characters,
 * controls and noncharacters, and Enter on what is left blank submits nothing
 * (measured: a message of U+FFFF alone never became a prompt).
 */
export function hasVisibleText(text: string): boolean {
  return /[^\s\p{Cc}\p{Cf}\p{Cn}\p{Cs}]/u.test(text);
}
