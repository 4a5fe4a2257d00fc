/** How much of an agent's last output is kept, to explain an agent that died. */
const TAIL_BYTES = 8 * 1024;

export function appendTail(tail: Buffer, data: Buffer): Buffer {
  const joined = tail.length ? Buffer.concat([tail, data]) : data;
  return joined.length > TAIL_BYTES ? Buffer.from(joined.subarray(joined.length - TAIL_BYTES)) : joined;
}

/** Text without terminal escape sequences: CSI (`ESC [ ... final`), OSC/DCS/APC/PM strings up to BEL or `ESC \`, any other `ESC x`. */
export function withoutEscapes(text: string): string {
  return text
    .replace(/\u001b\[[0-9;?]*[ -/]*[@-~]/gu, "")
    .replace(/\u001b[\]P^_][^\u0007\u001b]*(\u0007|\u001b\\)/gu, "")
    .replace(/\u001b./gu, "");
}

/** Terminal output as plain text: escape sequences removed, line endings normalized. */
export function tailText(tail: Buffer): string {
  return withoutEscapes(tail.toString("utf8"))
    .replace(/\r\n?/gu, "\n")
    .replace(/[\u0000-\u0008\u000b-\u001f]/gu, "");
}
