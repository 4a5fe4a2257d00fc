// The Runs view (with the workflows plugin loaded): every run, newest first
// (id, workflow, state, started, duration, where a failed one failed), kept
// current by the socket's `runs` / `run` frames; the selected run's journal,
// fetched again whenever a `journal` frame says it grew, played back on the
// step timeline (run-timeline.ts) with the player (playback.ts).
import { ApiError, fetchRunJournal } from "./api.js";
import { el, selectableList, setData, setText, time } from "./format.js";
import { Player } from "./playback.js";
import type { RunEventView, RunView, ServerMessage } from "./protocol.js";
import { describeEvent, drawRun, seconds } from "./run-timeline.js";

interface Row {
  item: HTMLLIElement;
  cells: Record<"id" | "workflow" | "state" | "started" | "duration" | "failure", HTMLElement>;
}

export class RunsView {
  readonly #runs = new Map<string, RunView>();
  readonly #rows = new Map<string, Row>();
  #selected: string | undefined;
  #events: RunEventView[] = [];
  /** The run whose journal the player holds. */
  #loaded: string | undefined;
  /** One journal fetch at a time; a frame during it asks for one more after it. */
  #fetching: Promise<void> | undefined;
  #again = false;
  readonly #player: Player;
  readonly #detail: HTMLElement;
  readonly #title: HTMLElement;
  readonly #outcome: HTMLElement;
  readonly #steps: HTMLElement;
  readonly #now: HTMLElement;
  readonly #error: HTMLElement;

  constructor(
    panel: HTMLElement,
    private readonly list: HTMLOListElement,
  ) {
    panel.hidden = false;
    selectableList(list, (id) => this.select(id));
    this.#detail = el("div", { className: "run-detail", testid: "run-detail" });
    this.#detail.hidden = true;
    this.#title = el("h3", { testid: "run-title" });
    this.#outcome = el("p", { className: "run-outcome", testid: "run-outcome" });
    this.#steps = el("ol", { className: "run-steps", testid: "run-steps" });
    this.#now = el("p", { className: "run-now", testid: "run-event" });
    this.#error = el("p", { className: "error", testid: "run-error" });
    this.#player = new Player((shown) => this.#draw(shown));
    this.#detail.append(this.#title, this.#player.root, this.#now, this.#outcome, this.#steps);
    panel.append(this.#error, this.#detail);
  }

  /** Applies a runs frame; false for frames about something else. */
  apply(message: ServerMessage): boolean {
    switch (message.type) {
      case "runs":
        this.#runs.clear();
        for (const run of message.runs) this.#runs.set(run.id, run);
        for (const row of this.#rows.values()) row.item.remove();
        this.#rows.clear();
        for (const run of message.runs) this.#upsert(run);
        // After a reconnect the journal may have grown unseen.
        if (this.#selected) this.#refetch();
        return true;
      case "run":
        this.#runs.set(message.run.id, message.run);
        this.#upsert(message.run);
        return true;
      case "journal":
        if (message.id === this.#selected) this.#refetch();
        return true;
      default:
        return false;
    }
  }

  select(id: string): void {
    if (this.#selected === id) return;
    this.#selected = id;
    for (const [rowId, row] of this.#rows) row.item.setAttribute("aria-selected", String(rowId === id));
    this.#refetch();
  }

  #upsert(run: RunView): void {
    let row = this.#rows.get(run.id);
    if (!row) {
      const item = el("li", { className: "run-row", testid: "run-row", data: { id: run.id } });
      const cells = {
        id: el("span", { className: "id", testid: "run-id" }),
        workflow: el("span", { testid: "run-workflow" }),
        state: el("span", { className: "state", testid: "run-state" }),
        started: el("span", { className: "started", testid: "run-started" }),
        duration: el("span", { className: "duration", testid: "run-duration" }),
        failure: el("span", { className: "failure", testid: "run-failure" }),
      };
      item.append(cells.id, cells.workflow, cells.state, cells.started, cells.duration, cells.failure);
      item.tabIndex = 0;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", String(run.id === this.#selected));
      row = { item, cells };
      this.#rows.set(run.id, row);
      // Newest first: before the first row (in the list's order) that started earlier.
      const older = [...this.list.children].find((other) => (this.#runs.get((other as HTMLElement).dataset.id ?? "")?.startedAt ?? "") < run.startedAt);
      this.list.insertBefore(item, older ?? null);
    }
    setData(row.item, "state", run.state);
    setText(row.cells.id, run.id);
    setText(row.cells.workflow, run.workflow);
    setText(row.cells.state, run.state);
    setText(row.cells.started, time(run.startedAt));
    row.cells.started.title = run.startedAt;
    setText(row.cells.duration, run.durationMs !== undefined ? seconds(run.durationMs) : "running");
    setText(row.cells.failure, run.failure ? `failed at ${run.failure.step}: ${run.failure.reason}` : "");
    if (run.id === this.#selected) this.#header();
  }

  #refetch(): void {
    if (this.#fetching) {
      this.#again = true;
      return;
    }
    const id = this.#selected;
    if (!id) return;
    this.#fetching = fetchRunJournal(id)
      .then((journal) => {
        if (id !== this.#selected) return;
        this.#runs.set(id, journal.run);
        this.#events = journal.events;
        setText(this.#error, "");
        this.#detail.hidden = false;
        this.#header();
        const sameRun = this.#loaded === id;
        this.#loaded = id;
        this.#player.load(journal.events, sameRun);
      })
      .catch((error: unknown) => {
        if (id === this.#selected) setText(this.#error, `Cannot read the journal of ${id}: ${error instanceof ApiError || error instanceof Error ? error.message : String(error)}`);
      })
      .finally(() => {
        this.#fetching = undefined;
        if (this.#again) {
          this.#again = false;
          this.#refetch();
        }
      });
  }

  #header(): void {
    const run = this.#selected ? this.#runs.get(this.#selected) : undefined;
    if (!run) return;
    setText(this.#title, `${run.workflow} · ${run.id} · ${run.state} · node ${run.node}`);
  }

  #draw(shown: number): void {
    const point = drawRun(this.#steps, this.#events, shown, (this.#loaded && this.#runs.get(this.#loaded)?.steps) || []);
    const current = this.#events[shown - 1];
    setText(this.#now, current ? describeEvent(current) : "Before the first event: press Play or move the scrubber.");
    const finished = point.finished;
    setData(this.#outcome, "state", finished?.state ?? "running");
    setText(this.#outcome, !finished ? "" : finished.failure ? `${finished.state} at ${finished.failure.step}: ${finished.failure.reason}` : finished.state);
  }
}
