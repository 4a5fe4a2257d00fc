import { createHash } from "node:crypto";

/**
 * A file-name-safe, readable, collision-free form of `text`: letters, digits,
 * `_`, `-` and `.` stay, every other byte becomes `%XX`. Names longer than
 * `maxLength` (at least 40) are cut and end in a hash.
 */
export function safeName(text: string, maxLength = 120): string {
  let safe = "";
  for (const byte of Buffer.from(text, "utf8")) {
    const isPlain =
      (byte >= 0x30 && byte <= 0x39) || // 0-9
      (byte >= 0x41 && byte <= 0x5a) || // A-Z
      (byte >= 0x61 && byte <= 0x7a) || // a-z
      byte === 0x5f || // _
      byte === 0x2d || // -
      (byte === 0x2e && safe.length > 0); // . (never leading: no hidden files, no "." or "..")
    safe += isPlain ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  if (safe.length > maxLength) {
    // Keep a readable start; the hash keeps different long texts apart.
    const head = safe.slice(0, Math.max(0, maxLength - 33)).replace(/%[0-9A-F]?$/u, "");
    safe = `${head}~${createHash("sha256").update(text).digest("hex").slice(0, 32)}`;
  }
  return safe;
}

export function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null ? (error as { code?: string }).code : undefined;
}
