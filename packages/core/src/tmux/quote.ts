/**
 * Quote one argument for tmux's own command parser (control mode reads every
 * line like a config line). Inside double quotes `\`, `"` and `$` are special,
 * and tmux 3.3 still expands a leading `~` to a home directory, so `~` is
 * escaped too; control characters are written as escapes so a command never
 * spans two lines. Nothing here is ever seen by a shell.
 */
export function quoteArg(value: string): string {
  let out = '"';
  for (const char of value) {
    const code = char.codePointAt(0)!;
    switch (char) {
      case "\\":
        out += "\\\\";
        break;
      case '"':
        out += '\\"';
        break;
      case "$":
        out += "\\$";
        break;
      case "~":
        out += "\\~";
        break;
      case "\n":
        out += "\\n";
        break;
      case "\r":
        out += "\\r";
        break;
      case "\t":
        out += "\\t";
        break;
      default:
        if (code < 0x20 || code === 0x7f) out += `\\${code.toString(8).padStart(3, "0")}`;
        else out += char;
    }
  }
  return `${out}"`;
}

/** A whole command line: every argument quoted, so `;`, `#`, `{`, `~` and `%` are plain text. */
export function commandLine(args: readonly string[]): string {
  return args.map(quoteArg).join(" ");
}

/** Decode the value of a `%output` notification: bytes < 0x20 and `\` arrive as `\ooo`. */
export function decodeOutput(raw: Buffer): Buffer {
  if (!raw.includes(0x5c)) return raw;
  const out = Buffer.allocUnsafe(raw.length);
  let o = 0;
  for (let i = 0; i < raw.length; i++) {
    const byte = raw[i]!;
    if (byte === 0x5c && i + 3 < raw.length && isOctal(raw[i + 1]) && isOctal(raw[i + 2]) && isOctal(raw[i + 3])) {
      out[o++] = ((raw[i + 1]! - 48) << 6) | ((raw[i + 2]! - 48) << 3) | (raw[i + 3]! - 48);
      i += 3;
    } else {
      out[o++] = byte;
    }
  }
  return out.subarray(0, o);
}

function isOctal(byte: number | undefined): boolean {
  return byte !== undefined && byte >= 48 && byte <= 55;
}

/** tmux session names cannot contain `.` or `:`; instance ids use `.` between levels. */
export function sessionNameFor(instanceId: string): string {
  return instanceId.replaceAll(".", "_");
}
