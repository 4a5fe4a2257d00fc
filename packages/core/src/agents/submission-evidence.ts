/**
 * Submission evidence from an append-only JSONL file the agent (or its hooks)
 * writes: the mark is the file's size, and what was submitted since is read
 * from there. One line of evidence is whatever `accepted` says it is.
 */
import { open, stat } from "node:fs/promises";
import type { SubmissionEvidence } from "./adapter.js";

export function jsonlEvidence(file: string, accepted: (line: unknown, text: string) => boolean): SubmissionEvidence {
  return {
    async mark() {
      const size = await stat(file).then(
        (info) => info.size,
        () => 0,
      );
      return `${file}@${size}`;
    },
    async submittedSince(mark, text) {
      const at = mark.lastIndexOf("@");
      // A mark of another file (the agent's log moved) proves nothing about this one.
      if (at < 0 || mark.slice(0, at) !== file) return false;
      for (const line of await linesFrom(file, Number(mark.slice(at + 1)))) {
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch {
          continue;
        }
        if (accepted(value, text)) return true;
      }
      return false;
    },
  };
}

/** The complete lines of `file` from byte `offset` on (none when it does not exist). */
async function linesFrom(file: string, offset: number): Promise<string[]> {
  let handle;
  try {
    handle = await open(file, "r");
  } catch {
    return [];
  }
  try {
    const { size } = await handle.stat();
    if (!Number.isSafeInteger(offset) || offset < 0 || offset >= size) return [];
    const buffer = Buffer.alloc(size - offset);
    await handle.read(buffer, 0, buffer.length, offset);
    const text = buffer.toString("utf8");
    // A half-written last line is not evidence yet.
    return text.slice(0, text.lastIndexOf("\n") + 1).split("\n").filter(Boolean);
  } finally {
    await handle.close();
  }
}
