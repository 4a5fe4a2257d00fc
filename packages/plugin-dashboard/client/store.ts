// The page's copy of the server's model: applies snapshot / instance /
// removed / message frames and tells views exactly what changed, so each view
// touches only the rows concerned.
import type { InstanceView, MessageView, ServerMessage } from "./protocol.js";

export type StoreChange =
  | { kind: "reset" }
  | { kind: "instance"; instance: InstanceView; previous: InstanceView | undefined }
  | { kind: "removed"; instance: InstanceView }
  | { kind: "message"; message: MessageView; previous: MessageView | undefined };

export type StoreListener = (change: StoreChange) => void;

/** The timeline keeps this many entries; older ones are dropped from the page (the server keeps its own). */
export const MAX_MESSAGES = 500;

export class DashboardStore {
  node = "";
  plugins: string[] = [];
  readonly instances = new Map<string, InstanceView>();
  /** In arrival order (snapshot order first), oldest first. */
  readonly messages = new Map<string, MessageView>();
  readonly #listeners = new Set<StoreListener>();

  subscribe(listener: StoreListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Applies a model frame; returns false for frames that are not about the model (terminal, errors). */
  apply(message: ServerMessage): boolean {
    switch (message.type) {
      case "snapshot":
        this.node = message.node;
        this.plugins = message.plugins;
        this.instances.clear();
        for (const instance of message.instances) this.instances.set(instance.id, instance);
        this.messages.clear();
        for (const entry of message.messages) this.messages.set(entry.id, entry);
        this.#trimMessages();
        this.#emit({ kind: "reset" });
        return true;
      case "instance": {
        const previous = this.instances.get(message.instance.id);
        this.instances.set(message.instance.id, message.instance);
        this.#emit({ kind: "instance", instance: message.instance, previous });
        return true;
      }
      case "removed": {
        const instance = this.instances.get(message.id);
        if (!instance) return true;
        this.instances.delete(message.id);
        this.#emit({ kind: "removed", instance });
        return true;
      }
      case "message": {
        const previous = this.messages.get(message.message.id);
        this.messages.set(message.message.id, message.message);
        this.#trimMessages();
        this.#emit({ kind: "message", message: message.message, previous });
        return true;
      }
      default:
        return false;
    }
  }

  /** Instances that need the person: attention 0. */
  needsYouCount(): number {
    let n = 0;
    for (const instance of this.instances.values()) if (instance.attention === 0) n++;
    return n;
  }

  childrenOf(id: string | null): InstanceView[] {
    const children: InstanceView[] = [];
    for (const instance of this.instances.values()) if (instance.parentId === id) children.push(instance);
    return children.sort(byCreation);
  }

  /** Tree order: depth first, siblings by creation; instances whose parent is unknown are roots. */
  treeOrder(): InstanceView[] {
    const byParent = new Map<string | null, InstanceView[]>();
    for (const instance of this.instances.values()) {
      const parent = instance.parentId !== null && this.instances.has(instance.parentId) ? instance.parentId : null;
      const list = byParent.get(parent);
      if (list) list.push(instance);
      else byParent.set(parent, [instance]);
    }
    const ordered: InstanceView[] = [];
    const visit = (parent: string | null) => {
      for (const child of (byParent.get(parent) ?? []).sort(byCreation)) {
        ordered.push(child);
        visit(child.id);
      }
    };
    visit(null);
    return ordered;
  }

  #trimMessages(): void {
    for (const id of this.messages.keys()) {
      if (this.messages.size <= MAX_MESSAGES) break;
      this.messages.delete(id);
    }
  }

  #emit(change: StoreChange): void {
    for (const listener of this.#listeners) listener(change);
  }
}

export function byCreation(a: InstanceView, b: InstanceView): number {
  return a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Attention order: most urgent first, then the most recently changed. */
export function byAttention(a: InstanceView, b: InstanceView): number {
  if (a.attention !== b.attention) return a.attention - b.attention;
  return a.updatedAt > b.updatedAt ? -1 : a.updatedAt < b.updatedAt ? 1 : a.id < b.id ? -1 : 1;
}
