// The messages between instances, oldest first: who sent what to whom, and
// whether it is still queued or was delivered (its receipt: acceptedAt).
// A state change rewrites only that entry.
import { el, setData, setText, time } from "./format.js";
import type { MessageView } from "./protocol.js";
import type { DashboardStore, StoreChange } from "./store.js";

interface Entry {
  item: HTMLLIElement;
  route: HTMLElement;
  text: HTMLElement;
  state: HTMLElement;
  when: HTMLElement;
}

export class TimelineView {
  readonly #entries = new Map<string, Entry>();

  constructor(
    private readonly store: DashboardStore,
    private readonly list: HTMLOListElement,
  ) {
    store.subscribe((change) => this.#apply(change));
  }

  #apply(change: StoreChange): void {
    if (change.kind === "reset") {
      this.#entries.clear();
      this.list.replaceChildren(...[...this.store.messages.values()].map((message) => this.#create(message).item));
      this.#scrollToEnd();
    } else if (change.kind === "message") {
      const entry = this.#entries.get(change.message.id);
      if (entry) {
        this.#fill(entry, change.message);
      } else {
        this.list.append(this.#create(change.message).item);
        this.#dropTrimmed();
        this.#scrollToEnd();
      }
    } else if (change.kind === "instance" && !change.previous) {
      // A name that arrives after the message renders it with the name from now on.
      for (const [id, entry] of this.#entries) {
        const message = this.store.messages.get(id);
        if (message && (message.to === change.instance.id || message.from === change.instance.id)) this.#fill(entry, message);
      }
    }
  }

  #create(message: MessageView): Entry {
    const item = el("li", { className: "message", testid: "message", data: { id: message.id } });
    const entry: Entry = {
      item,
      route: el("span", { className: "route", testid: "message-route" }),
      text: el("span", { className: "text", testid: "message-body" }),
      state: el("span", { className: "state", testid: "message-state" }),
      when: el("span", { className: "when", testid: "message-when" }),
    };
    item.append(entry.when, entry.route, entry.state, entry.text);
    this.#fill(entry, message);
    this.#entries.set(message.id, entry);
    return entry;
  }

  #fill(entry: Entry, message: MessageView): void {
    setData(entry.item, "state", message.state);
    setData(entry.item, "to", message.to);
    setData(entry.item, "from", message.from ?? "root");
    setText(entry.route, `${this.#who(message.from)} → ${this.#who(message.to)}`);
    setText(entry.text, message.text);
    setText(entry.state, stateText(message));
    setText(entry.when, time(message.sentAt));
    entry.when.title = message.sentAt;
  }

  #who(id: string | null): string {
    // The root: a person (this page, the CLI) or a plugin (git's forecasts); the store does not say which.
    if (id === null) return "root";
    const instance = this.store.instances.get(id);
    return instance?.name ? `${instance.name} (${id})` : id;
  }

  /** The store keeps the newest entries; drop the rows it no longer has. */
  #dropTrimmed(): void {
    if (this.#entries.size <= this.store.messages.size) return;
    for (const [id, entry] of this.#entries) {
      if (this.store.messages.has(id)) continue;
      entry.item.remove();
      this.#entries.delete(id);
    }
  }

  #scrollToEnd(): void {
    const scroller = this.list.parentElement;
    if (scroller) scroller.scrollTop = scroller.scrollHeight;
  }
}

function stateText(message: MessageView): string {
  if (message.state === "delivered") return message.acceptedAt ? `delivered ${time(message.acceptedAt)}` : "delivered";
  if (message.state === "dropped") return "dropped (recipient terminated)";
  return "queued";
}
