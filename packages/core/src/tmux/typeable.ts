/**
 * Text as it is typed into a pane, so that one message is exactly one
 * submission for any agent that uses bracketed paste.
 *
 * Inside a bracketed paste the agent takes every byte as text until
 * `ESC[201~`, so a message containing that sequence would end the paste early
 * and the rest (with its line breaks) would be typed as keys: each CR an Enter.
 * Other control characters act even inside a paste: Claude Code parses escape
 * sequences there as keys (`ESC y` dropped the `y`, `ESC[31m` vanished), and an
 * agent that leaves the terminal's signal keys on (readline does) gets SIGINT
 * from C-c (0x03), SIGQUIT from 0x1c and SIGTSTP from 0x1a, and its output
 * stopped by XOFF (0x13). So, per character:
 *
 * - TAB, LF and CR are kept: inside the paste they are text (line breaks stay
 *   line breaks; Enter is pressed only once, after the paste).
 * - Every other C0 control (0x00-0x1f: ESC, and with it every `ESC[200~` and
 *   `ESC[201~`; NUL, which tmux would cut the text at; C-c, C-d, BS, ...) becomes
 *   its visible Unicode control picture U+2400 + code (ESC -> U+241B "␛",
 *   C-c -> U+2403 "␃"), and DEL (0x7f) becomes U+2421 "␡", so the agent still
 *   sees that something was there and what, but nothing acts.
 * - A lone UTF-16 surrogate becomes U+FFFD (it has no UTF-8 form).
 * - Everything else (printable text, Unicode, C1 characters U+0080-U+009F,
 *   tmux and shell syntax) is kept byte for byte.
 *
 * Idempotent: typeable text passes through unchanged.
 */
export function typeableText(text: string): string {
  return text.replace(REPLACED, replacement);
}

/** Acting controls, and lone surrogates (matched by UTF-16 unit: no `u` flag). */
const REPLACED = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function replacement(char: string): string {
  const code = char.charCodeAt(0);
  if (code >= 0xd800) return "\ufffd";
  return String.fromCharCode(code === 0x7f ? 0x2421 : 0x2400 + code);
}
