// The selected instance: what it is, its last reply, its usage and cost (its
// own and its subtree's), its git state when plugin-git is loaded, and the
// actions (each confirmed in a dialog, then POSTed with the CSRF token).
import { ApiError, postAction } from "./api.js";
import type { ConfirmDialog } from "./confirm.js";
import { age, cost, el, fillProgress, label, onAgeTick, progressCell, setText, shownStatus, time, tokens } from "./format.js";
import { capitalize, describe, outcome } from "./outcome.js";
import type { ActionBodies, ActionName, InstanceView } from "./protocol.js";
import type { DashboardStore } from "./store.js";

export class DetailView {
  #id: string | undefined;
  readonly #fields = new Map<string, HTMLElement>();
  readonly #root: HTMLElement;
  readonly #empty: HTMLElement;
  readonly #body: HTMLElement;
  readonly #git: HTMLElement;
  readonly #noUsage: HTMLElement;
  readonly #usageFacts: HTMLElement;
  readonly #progress: HTMLElement;
  readonly #progressBar: HTMLElement;
  readonly #progressItems: HTMLElement;
  readonly #text: HTMLTextAreaElement;
  readonly #cascade: HTMLInputElement;
  readonly #answer: HTMLButtonElement;
  readonly #merge: HTMLButtonElement;
  readonly #send: HTMLButtonElement;
  readonly #buttons: HTMLButtonElement[];
  readonly #hint: HTMLElement;
  #connected = false;
  readonly #error: HTMLElement;
  readonly #result: HTMLElement;

  constructor(
    root: HTMLElement,
    private readonly store: DashboardStore,
    private readonly confirm: ConfirmDialog,
    private readonly csrf: () => string,
  ) {
    this.#root = root;
    this.#empty = el("p", { className: "empty", text: "Select an instance in the tree." });
    this.#body = el("div", { className: "detail-body", testid: "detail" });
    this.#body.hidden = true;

    const header = el("dl", { className: "facts" });
    for (const [key, title] of [
      ["label", "Instance"], ["id", "Id"], ["status", "Status"], ["statusReason", "Why"], ["agent", "Agent"],
      ["node", "Node"], ["age", "Age"], ["queued", "Queued messages"],
    ] as const) header.append(el("dt", { text: title }), this.#field("dd", key));

    const reply = el("section", { className: "reply" });
    reply.append(el("h3", { text: "Last reply" }), this.#field("pre", "lastReply"));

    const usage = el("section", { className: "usage", testid: "usage" });
    const usageFacts = el("dl", { className: "facts" });
    for (const [key, title] of [
      ["inputTokens", "Input tokens"], ["outputTokens", "Output tokens"], ["cacheCreationInputTokens", "Cache writes"],
      ["cacheReadInputTokens", "Cache reads"], ["model", "Model"], ["costUsd", "Cost"],
      ["subtreeTokens", "Subtree tokens"], ["subtreeCostUsd", "Subtree cost"],
    ] as const) usageFacts.append(el("dt", { text: title }), this.#field("dd", key));
    this.#noUsage = el("p", { className: "empty", text: "No usage reported yet.", testid: "no-usage" });
    usage.append(el("h3", { text: "Usage" }), this.#noUsage, usageFacts);
    this.#usageFacts = usageFacts;

    // The agent's own account of its task: the bar, the step in progress, its task list.
    this.#progress = el("section", { className: "progress-detail", testid: "progress-detail" });
    this.#progressBar = progressCell();
    this.#progressItems = el("ul", { className: "progress-items", testid: "progress-items" });
    this.#progress.append(el("h3", { text: "Progress" }), this.#progressBar, this.#field("p", "progressCurrent"), this.#progressItems);

    this.#git = el("section", { className: "git", testid: "git" });
    const gitFacts = el("dl", { className: "facts" });
    for (const [key, title] of [["branch", "Branch"], ["base", "Base"], ["aheadBehind", "Ahead / behind"]] as const) {
      gitFacts.append(el("dt", { text: title }), this.#field("dd", key));
    }
    this.#git.append(
      el("h3", { text: "Git" }), gitFacts,
      el("h4", { text: "Dirty files" }), this.#field("ul", "dirty"),
      el("h4", { text: "Forecast conflicts" }), this.#field("ul", "conflicts"),
      el("h4", { text: "Merge queue" }), this.#field("ol", "queue"),
    );

    const actions = el("section", { className: "actions", testid: "actions" });
    this.#text = el("textarea", { testid: "action-text" });
    this.#text.rows = 3;
    this.#text.placeholder = "Message or answer";
    this.#text.setAttribute("aria-label", "Message or answer");
    const buttons = el("div", { className: "buttons" });
    const send = (this.#send = this.#button("Send", "action-send"));
    this.#answer = this.#button("Answer", "action-answer");
    const restart = this.#button("Restart", "action-restart");
    this.#merge = this.#button("Merge", "action-merge");
    const terminate = this.#button("Terminate", "action-terminate");
    terminate.classList.add("danger");
    this.#cascade = el("input", { testid: "terminate-cascade" });
    this.#cascade.type = "checkbox";
    const cascadeLabel = el("label", { className: "cascade" });
    cascadeLabel.append(this.#cascade, document.createTextNode(" with its subtree"));
    buttons.append(send, this.#answer, restart, this.#merge, terminate, cascadeLabel);
    this.#buttons = [send, this.#answer, restart, this.#merge, terminate];
    this.#hint = el("p", { className: "hint", testid: "action-hint" });
    this.#error = el("p", { className: "error", testid: "action-error" });
    this.#error.setAttribute("role", "alert");
    this.#result = el("p", { className: "result", testid: "action-result" });
    this.#result.setAttribute("role", "status");
    actions.append(el("h3", { text: "Actions" }), this.#text, buttons, this.#hint, this.#error, this.#result);

    send.addEventListener("click", () => void this.#act("send", { text: this.#text.value }));
    this.#answer.addEventListener("click", () => void this.#act("answer", { text: this.#text.value }));
    restart.addEventListener("click", () => void this.#act("restart", {}));
    this.#merge.addEventListener("click", () => void this.#act("merge", {}));
    terminate.addEventListener("click", () => void this.#act("terminate", { cascade: this.#cascade.checked }));

    // Actions right under the facts: in a short panel they stay in view without scrolling.
    this.#body.append(header, actions, this.#progress, reply, usage, this.#git);
    root.replaceChildren(el("h2", { text: "Instance" }), this.#empty, this.#body);

    onAgeTick((now) => {
      const instance = this.#id ? this.store.instances.get(this.#id) : undefined;
      if (instance) this.#set("age", this.#age(instance, now));
    });
    store.subscribe((change) => {
      if (change.kind === "reset" || ((change.kind === "instance" || change.kind === "removed") && change.instance.id === this.#id)) {
        this.#render();
      }
    });
  }

  /** While the socket is down no action can reach the server: disabled, with the reason in the hint. */
  setConnected(connected: boolean): void {
    this.#connected = connected;
    this.#render();
  }

  show(id: string | undefined): void {
    if (id !== this.#id) {
      this.#text.value = "";
      this.#cascade.checked = false;
      setText(this.#error, "");
      setText(this.#result, "");
    }
    this.#id = id;
    this.#render();
  }

  #renderProgress(instance: InstanceView): void {
    const progress = instance.progress;
    this.#progress.hidden = progress === undefined;
    fillProgress(this.#progressBar, progress);
    this.#set("progressCurrent", progress?.current ? `Now: ${progress.current}` : "");
    const items = (progress?.items ?? []).map((item) => el("li", { className: `item ${item.state}`, text: `${item.state === "completed" ? "✓" : item.state === "in_progress" ? "▸" : "○"} ${item.text}`, data: { state: item.state } }));
    // Rebuilt only when the list changed: an unrelated update causes no DOM mutation.
    const key = JSON.stringify(progress?.items ?? []);
    if (this.#progressItems.dataset.key !== key) {
      this.#progressItems.dataset.key = key;
      this.#progressItems.replaceChildren(...items);
    }
  }

  #render(): void {
    const instance = this.#id ? this.store.instances.get(this.#id) : undefined;
    this.#root.dataset.id = this.#id ?? "";
    this.#empty.hidden = instance !== undefined;
    this.#body.hidden = instance === undefined;
    if (this.#id && !instance) setText(this.#empty, `${this.#id} is gone (terminated).`);
    this.#renderAvailability(instance);
    if (!instance) return;
    this.#set("label", label(instance));
    this.#set("id", instance.id);
    const limit = instance.status === "limited" && instance.unreachable === undefined && instance.limitedUntil ? ` until ${new Date(instance.limitedUntil).toLocaleString()}` : "";
    this.#set("status", `${shownStatus(instance)}${limit}`);
    this.#set("statusReason", instance.unreachable !== undefined ? `${instance.unreachable} (last seen ${instance.status})` : (instance.statusReason ?? "—"));
    this.#set("agent", instance.agent);
    this.#set("node", instance.node);
    this.#set("age", this.#age(instance, Date.now()));
    this.#set("queued", String(instance.queued));
    // Only some agents report replies (a shell never does): "(none yet)" would promise one.
    this.#set("lastReply", instance.lastReply ?? "—");
    const usage = instance.usage;
    this.#noUsage.hidden = usage !== undefined;
    this.#usageFacts.hidden = usage === undefined;
    this.#set("inputTokens", tokens(usage?.inputTokens));
    this.#set("outputTokens", tokens(usage?.outputTokens));
    this.#set("cacheCreationInputTokens", tokens(usage?.cacheCreationInputTokens));
    this.#set("cacheReadInputTokens", tokens(usage?.cacheReadInputTokens));
    this.#set("model", usage?.model ?? "");
    this.#set("costUsd", cost(usage?.costUsd));
    this.#set("subtreeTokens", tokens(usage?.subtreeTokens));
    // Partial: a descendant's usage has no price, so the sum is only a lower bound.
    this.#set("subtreeCostUsd", `${usage?.subtreeCostPartial ? "≥ " : ""}${cost(usage?.subtreeCostUsd)}`);
    this.#renderProgress(instance);
    this.#renderGit(instance);
    this.#answer.hidden = instance.status !== "waiting";
    this.#merge.hidden = !instance.git && !this.store.plugins.includes("git");
  }

  /** Buttons that cannot work now are disabled, and the hint says why and what does work. */
  #renderAvailability(instance: InstanceView | undefined): void {
    const exited = instance?.status === "exited";
    for (const button of this.#buttons) button.disabled = !this.#connected;
    if (exited) this.#send.disabled = this.#answer.disabled = true;
    this.#text.disabled = exited;
    const hint = !this.#connected
      ? "Disconnected from the dashboard: actions wait until the page reconnects."
      : exited
        ? `${instance!.id} has exited (see Why): Restart it to send again, or Terminate it.`
        : "";
    setText(this.#hint, hint);
  }

  #renderGit(instance: InstanceView): void {
    const git = instance.git;
    this.#git.hidden = !git;
    if (!git) return;
    this.#set("branch", git.branch);
    this.#set("base", git.base ?? "");
    this.#set("aheadBehind", `${git.ahead} ahead, ${git.behind} behind`);
    this.#list("dirty", git.dirty.length ? git.dirty : ["(clean)"]);
    this.#list("conflicts", git.conflicts.length ? git.conflicts.map((c) => `with ${c.with}: ${c.files.join(", ")}`) : ["(none forecast)"]);
    this.#list("queue", git.queue?.length ? git.queue : ["(empty)"]);
  }

  async #act<A extends ActionName>(action: A, body: ActionBodies[A]): Promise<void> {
    const id = this.#id;
    const instance = id ? this.store.instances.get(id) : undefined;
    if (!id || !instance) return;
    setText(this.#error, "");
    setText(this.#result, "");
    if ((action === "send" || action === "answer") && !this.#text.value.trim()) {
      setText(this.#error, `Write the ${action === "send" ? "message" : "answer"} first.`);
      return;
    }
    const ok = await this.confirm.ask(...describe(action, instance, body), capitalize(action));
    if (!ok) return;
    try {
      const result = await postAction(this.csrf(), id, action, body);
      // Another instance was selected meanwhile: its panel must not show this one's result.
      if (this.#id !== id) return;
      const answer = outcome(action, id, result);
      setText(answer.ok ? this.#result : this.#error, answer.text);
      if (action === "send" || action === "answer") this.#text.value = "";
    } catch (error) {
      if (this.#id !== id) return;
      const message = error instanceof ApiError || error instanceof Error ? error.message : String(error);
      setText(this.#error, `${capitalize(action)} failed: ${message}`);
    }
  }

  #age(instance: InstanceView, now: number): string {
    return `${age(instance.createdAt, now)} (since ${time(instance.createdAt)})`;
  }

  #field(tag: "dd" | "pre" | "ul" | "ol" | "p", key: string): HTMLElement {
    const node = el(tag, { testid: `detail-${key}` });
    this.#fields.set(key, node);
    return node;
  }

  #set(key: string, text: string): void {
    setText(this.#fields.get(key)!, text);
  }

  #list(key: string, items: string[]): void {
    const list = this.#fields.get(key)!;
    if ([...list.children].map((item) => item.textContent).join("\n") === items.join("\n")) return;
    list.replaceChildren(...items.map((text) => el("li", { text })));
  }

  #button(text: string, testid: string): HTMLButtonElement {
    const button = el("button", { text, testid });
    button.type = "button";
    return button;
  }
}
