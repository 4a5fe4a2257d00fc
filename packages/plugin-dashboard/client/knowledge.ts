// The Knowledge view (with the knowledge plugin loaded): every hierarchy's
// shared notes, newest first, and the file claims held or waited for, kept
// current by the socket's `knowledge` frames (sent on every change of the
// plugin's documents, by any process or node).
import { el, time } from "./format.js";
import type { KnowledgeView as Knowledge, ServerMessage } from "./protocol.js";

export class KnowledgeView {
  constructor(
    panel: HTMLElement,
    private readonly entries: HTMLOListElement,
    private readonly claims: HTMLOListElement,
  ) {
    panel.hidden = false;
  }

  /** Applies a knowledge frame; false for frames about something else. */
  apply(message: ServerMessage): boolean {
    if (message.type !== "knowledge") return false;
    this.draw(message.knowledge);
    return true;
  }

  private draw(knowledge: Knowledge): void {
    // Small lists redrawn whole: a frame comes only when a note or claim changed.
    this.entries.replaceChildren(
      ...(knowledge.entries.length
        ? knowledge.entries.map((e) => {
            const item = el("li", { className: "knowledge-entry", testid: "knowledge-entry", data: { key: e.key, hierarchy: e.hierarchy } });
            const head = el("div", { className: "knowledge-head" });
            head.append(
              el("span", { className: "key", text: e.key }),
              el("span", { className: "tags", text: e.tags.map((t) => `#${t}`).join(" ") }),
              el("span", { className: "by", text: `${e.by ?? "root"} · ${time(e.at)} · ${e.hierarchy}` }),
            );
            item.append(head, el("p", { className: "value", text: e.value }));
            return item;
          })
        : [el("li", { className: "empty", text: "No knowledge recorded." })]),
    );
    this.claims.replaceChildren(
      ...(knowledge.claims.length
        ? knowledge.claims.map((c) =>
            el("li", {
              className: "claim",
              testid: "claim",
              text: `${c.instanceId}${c.waiting ? " (waiting)" : ""}: ${c.paths.join(", ")} · since ${time(c.at)} · ${c.hierarchy}`,
              data: { instance: c.instanceId, waiting: String(c.waiting) },
            }),
          )
        : [el("li", { className: "empty", text: "No file claims." })]),
    );
  }
}
