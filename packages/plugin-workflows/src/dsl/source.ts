/**
 * The YAML text and where each value sits in it: every message about a value
 * names its line and column, so the YAML nodes are kept beside the plain
 * values that are validated.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import { formatPath } from "@tmux-claude/core";
import type { WorkflowIssue } from "./errors.js";

export type Key = string | number;

export class YamlSource {
  private constructor(
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
    private readonly text: string,
  ) {}

  /** Parse `text`; YAML syntax errors come back as issues (nothing else is checked then). */
  static parse(text: string): { source: YamlSource; value: unknown; issues: WorkflowIssue[] } {
    const lines = new LineCounter();
    // uniqueKeys: a key given twice is an error, not "the last one wins".
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const source = new YamlSource(doc, lines, text);
    const issues = doc.errors.map((error) => ({ ...source.at(error.pos[0]), path: "", message: `not valid YAML: ${firstLine(error.message)}` }));
    if (issues.length > 0) return { source, value: undefined, issues };
    return { source, value: doc.toJS({ maxAliasCount: 100 }) as unknown, issues };
  }

  /** Line and column (1-based) of a character offset. */
  at(offset: number): { line: number; column: number } {
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  /** Where the value at `path` starts; with `key`, where its key starts (an unknown key points at itself). Falls back to the nearest parent that exists. */
  locate(path: readonly Key[], key = false): { line?: number; column?: number } {
    let node: unknown = this.doc.contents;
    let keyNode: unknown;
    let found: unknown = node;
    for (const part of path) {
      keyNode = undefined;
      if (isMap(node)) {
        const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && item.key.value === part);
        if (!pair) break;
        keyNode = pair.key;
        node = pair.value;
      } else if (isSeq(node) && typeof part === "number") {
        node = node.items[part];
      } else break;
      found = key && keyNode !== undefined ? keyNode : (node ?? keyNode);
    }
    const range = (found as Node | null | undefined)?.range;
    return range ? this.at(range[0]) : {};
  }

  /**
   * Where the `nth` (0-based) `needle` is written in the value at `path` (a
   * `${{ }}` in a text), as the file has it: quotes, escapes and folded lines
   * move it from its place in the value, so it is found in the source. The
   * value's start when it is not written as is there.
   */
  locateWithin(path: readonly Key[], needle: string, nth: number): { line?: number; column?: number } {
    const start = this.locate(path);
    const node = this.nodeAt(path);
    const range = (node as Node | null | undefined)?.range;
    if (!range) return start;
    const written = this.text.slice(range[0], range[1]);
    let at = -1;
    for (let n = 0; n <= nth; n++) {
      at = written.indexOf(needle, at + 1);
      if (at === -1) return start;
    }
    return this.at(range[0] + at);
  }

  /** An issue about a `${{ }}` (the `nth` of `expression`) in the text at `path`, pointing at it. */
  issueWithin(path: readonly Key[], expression: string, nth: number, message: string): WorkflowIssue {
    return { ...this.locateWithin(path, expression, nth), path: path.length === 0 ? "" : formatPath(path), message };
  }

  /** The value's node at `path`, if the path leads to one. */
  private nodeAt(path: readonly Key[]): unknown {
    let node: unknown = this.doc.contents;
    for (const part of path) {
      if (isMap(node)) {
        const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && item.key.value === part);
        if (!pair) return undefined;
        node = pair.value;
      } else if (isSeq(node) && typeof part === "number") {
        node = node.items[part];
      } else return undefined;
    }
    return node;
  }

  /** An issue about the value (or key) at `path`. */
  issue(path: readonly Key[], message: string, key = false): WorkflowIssue {
    return { ...this.locate(path, key), path: path.length === 0 ? "" : formatPath(path), message };
  }
}

function firstLine(message: string): string {
  return message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/u, "");
}
