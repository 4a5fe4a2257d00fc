// The instance tree and the attention list. Each instance has one row in each;
// an update rewrites only that instance's cells (and moves its rows when its
// place changed), so a change with 100 instances present costs one row.
import { age, attentionReason, cost, el, fillProgress, label, onAgeTick, progressCell, setData, setText, shownStatus, selectableList } from "./format.js";
import type { InstanceView } from "./protocol.js";
import { byAttention, type DashboardStore, type StoreChange } from "./store.js";

interface Row {
  item: HTMLLIElement;
  name: HTMLElement;
  id: HTMLElement;
  progress: HTMLElement;
  status: HTMLElement;
  node: HTMLElement;
  age: HTMLElement;
  cost: HTMLElement;
}

interface AttentionRow {
  item: HTMLLIElement;
  name: HTMLElement;
  id: HTMLElement;
  status: HTMLElement;
  reason: HTMLElement;
}

export class TreeView {
  readonly #rows = new Map<string, Row>();
  readonly #attentionRows = new Map<string, AttentionRow>();
  /** Ids in attention order, kept sorted incrementally. */
  #attentionOrder: string[] = [];
  #selected: string | undefined;

  constructor(
    private readonly store: DashboardStore,
    private readonly tree: HTMLOListElement,
    private readonly attention: HTMLOListElement,
    private readonly onSelect: (id: string) => void,
  ) {
    store.subscribe((change) => this.#apply(change));
    for (const list of [tree, attention]) selectableList(list, (id) => this.onSelect(id));
    onAgeTick((now) => this.#refreshAges(now));
  }

  select(id: string | undefined): void {
    if (this.#selected) this.#rows.get(this.#selected)?.item.removeAttribute("aria-selected");
    this.#selected = id;
    if (id) this.#rows.get(id)?.item.setAttribute("aria-selected", "true");
  }

  #apply(change: StoreChange): void {
    switch (change.kind) {
      case "reset":
        this.#rebuild();
        break;
      case "instance":
        this.#upsert(change.instance, change.previous);
        break;
      case "removed":
        this.#remove(change.instance.id);
        break;
      case "message":
        return;
    }
    this.#updateTitle();
  }

  /** Only on a snapshot (first connect or reconnect). */
  #rebuild(): void {
    this.#rows.clear();
    this.#attentionRows.clear();
    const treeItems = this.store.treeOrder().map((instance) => this.#createRow(instance).item);
    this.tree.replaceChildren(...treeItems);
    const sorted = [...this.store.instances.values()].sort(byAttention);
    this.#attentionOrder = sorted.map((instance) => instance.id);
    this.attention.replaceChildren(...sorted.map((instance) => this.#createAttentionRow(instance).item));
    this.select(this.#selected);
  }

  #upsert(instance: InstanceView, previous: InstanceView | undefined): void {
    const row = this.#rows.get(instance.id);
    if (!row || !previous) {
      this.#insertTreeRow(row ?? this.#createRow(instance), instance.id);
    } else {
      this.#fillRow(row, instance);
      if (previous.parentId !== instance.parentId) this.#insertTreeRow(row, instance.id);
    }
    const attentionRow = this.#attentionRows.get(instance.id) ?? this.#createAttentionRow(instance);
    this.#fillAttentionRow(attentionRow, instance);
    this.#placeInAttention(instance, attentionRow.item);
  }

  #remove(id: string): void {
    this.#rows.get(id)?.item.remove();
    this.#rows.delete(id);
    this.#attentionRows.get(id)?.item.remove();
    this.#attentionRows.delete(id);
    this.#attentionOrder = this.#attentionOrder.filter((other) => other !== id);
  }

  /** Puts a row at its depth-first place: before the row of the instance that follows it in tree order. */
  #insertTreeRow(row: Row, id: string): void {
    const order = this.store.treeOrder();
    const index = order.findIndex((instance) => instance.id === id);
    const next = order.slice(index + 1).find((instance) => this.#rows.has(instance.id) && instance.id !== id);
    this.tree.insertBefore(row.item, next ? this.#rows.get(next.id)!.item : null);
  }

  #placeInAttention(instance: InstanceView, item: HTMLLIElement): void {
    const order = this.#attentionOrder.filter((id) => id !== instance.id);
    let index = 0;
    while (index < order.length) {
      const other = this.store.instances.get(order[index]!);
      if (other && byAttention(instance, other) < 0) break;
      index++;
    }
    order.splice(index, 0, instance.id);
    this.#attentionOrder = order;
    const nextId = order[index + 1];
    const nextItem = nextId ? this.#attentionRows.get(nextId)?.item : undefined;
    // Moving a node that is already in place would still count as a mutation.
    if (item.parentNode !== this.attention || item.nextSibling !== (nextItem ?? null)) {
      this.attention.insertBefore(item, nextItem ?? null);
    }
  }

  #createRow(instance: InstanceView): Row {
    const item = el("li", { className: "instance-row", testid: "instance-row", data: { id: instance.id } });
    const row: Row = {
      item,
      name: el("span", { className: "name", testid: "name" }),
      id: el("span", { className: "id", testid: "id", text: instance.id }),
      progress: progressCell(),
      status: el("span", { className: "status", testid: "status" }),
      node: el("span", { className: "node", testid: "node" }),
      age: el("span", { className: "age", testid: "age" }),
      cost: el("span", { className: "cost", testid: "cost" }),
    };
    // Unnamed instances of one role look alike: the id tells them apart.
    const who = el("span", { className: "who" });
    who.append(row.name, row.id, row.progress);
    item.append(who, row.status, row.node, row.age, row.cost);
    item.tabIndex = 0;
    item.setAttribute("role", "option");
    this.#fillRow(row, instance);
    this.#rows.set(instance.id, row);
    return row;
  }

  #fillRow(row: Row, instance: InstanceView): void {
    setData(row.item, "status", shownStatus(instance));
    setData(row.item, "attention", String(instance.attention));
    // CSSOM, not a style attribute: allowed by the page's CSP.
    if (row.item.style.getPropertyValue("--depth") !== String(instance.depth)) {
      row.item.style.setProperty("--depth", String(instance.depth));
    }
    setText(row.name, label(instance));
    row.name.title = instance.id;
    setText(row.status, shownStatus(instance));
    row.status.title = instance.unreachable ?? (instance.status === "limited" ? attentionReason(instance) : undefined) ?? instance.statusReason ?? "";
    setText(row.node, instance.node);
    row.node.title = instance.node;
    setText(row.age, age(instance.createdAt));
    setText(row.cost, cost(instance.usage?.costUsd));
    fillProgress(row.progress, instance.progress);
  }

  #createAttentionRow(instance: InstanceView): AttentionRow {
    const item = el("li", { className: "attention-row", testid: "attention-row", data: { id: instance.id } });
    const row: AttentionRow = {
      item,
      name: el("span", { className: "name", testid: "name" }),
      id: el("span", { className: "id", testid: "id", text: instance.id }),
      status: el("span", { className: "status", testid: "status" }),
      reason: el("span", { className: "reason", testid: "reason" }),
    };
    item.append(row.status, row.name, row.id, row.reason);
    item.tabIndex = 0;
    item.setAttribute("role", "option");
    this.#fillAttentionRow(row, instance);
    this.#attentionRows.set(instance.id, row);
    return row;
  }

  #fillAttentionRow(row: AttentionRow, instance: InstanceView): void {
    setData(row.item, "status", shownStatus(instance));
    setData(row.item, "attention", String(instance.attention));
    setText(row.name, label(instance));
    setText(row.status, shownStatus(instance));
    const reason = attentionReason(instance);
    setText(row.reason, reason);
    row.reason.title = reason;
  }

  #refreshAges(now: number): void {
    for (const [id, row] of this.#rows) {
      const instance = this.store.instances.get(id);
      if (instance) setText(row.age, age(instance.createdAt, now));
    }
  }

  #updateTitle(): void {
    const needsYou = this.store.needsYouCount();
    const base = this.store.node ? `tmux-claude · ${this.store.node}` : "tmux-claude";
    const title = needsYou > 0 ? `(${needsYou}) needs you · ${base}` : base;
    if (document.title !== title) document.title = title;
  }
}
