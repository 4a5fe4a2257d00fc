// Play a journal back: play/pause, a scrubber over its events and a speed
// (1x and 10x wait the journal's own gaps divided by the speed; instant
// jumps to the end). The position is a count of events shown; `draw` gets it
// on every change. New events of a live run extend the scrubber; a player
// that was at the end stays at the end (it follows the run).
import { el } from "./format.js";
import type { RunEventView } from "./protocol.js";

/** A gap longer than this (an agent thinking for minutes) plays as this long, at 1x. */
const MAX_GAP_MS = 2_000;

export type Speed = "1" | "10" | "instant";

export class Player {
  readonly root: HTMLElement;
  #events: readonly RunEventView[] = [];
  #shown = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #play: HTMLButtonElement;
  readonly #speed: HTMLSelectElement;
  readonly #scrubber: HTMLInputElement;
  readonly #position: HTMLElement;

  constructor(private readonly draw: (shown: number) => void) {
    this.root = el("div", { className: "player", testid: "run-player" });
    this.#play = el("button", { text: "Play", testid: "run-play" });
    this.#play.type = "button";
    this.#play.addEventListener("click", () => (this.playing ? this.pause() : this.play()));
    this.#speed = el("select", { testid: "run-speed" });
    this.#speed.setAttribute("aria-label", "Playback speed");
    for (const [value, text] of [["1", "1x"], ["10", "10x"], ["instant", "instant"]] as const) {
      const option = el("option", { text });
      option.value = value;
      this.#speed.append(option);
    }
    this.#speed.value = "10";
    this.#speed.addEventListener("change", () => {
      if (this.playing) this.play();
    });
    this.#scrubber = el("input", { testid: "run-scrubber" });
    this.#scrubber.type = "range";
    this.#scrubber.min = "0";
    this.#scrubber.step = "1";
    this.#scrubber.setAttribute("aria-label", "Journal position");
    this.#scrubber.addEventListener("input", () => {
      this.pause();
      this.#show(Number(this.#scrubber.value));
    });
    this.#position = el("span", { className: "position", testid: "run-position" });
    this.root.append(this.#play, this.#speed, this.#scrubber, this.#position);
  }

  get playing(): boolean {
    return this.#play.dataset.playing === "true";
  }

  /** A new journal (another run: start at its end), or the same run's grown journal. */
  load(events: readonly RunEventView[], sameRun: boolean): void {
    const following = !sameRun || this.#shown >= this.#events.length;
    if (!sameRun) this.pause();
    this.#events = events;
    this.#scrubber.max = String(events.length);
    this.#show(following && !this.playing ? events.length : Math.min(this.#shown, events.length));
  }

  play(): void {
    clearTimeout(this.#timer);
    if (this.#speed.value === "instant") {
      this.pause();
      this.#show(this.#events.length);
      return;
    }
    if (this.#shown >= this.#events.length) this.#show(0);
    this.#setPlaying(true);
    this.#schedule();
  }

  pause(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#setPlaying(false);
  }

  #schedule(): void {
    if (this.#shown >= this.#events.length) return this.pause();
    const next = this.#events[this.#shown]!;
    const previous = this.#events[this.#shown - 1];
    const gap = previous ? Math.min(MAX_GAP_MS, Math.max(0, Date.parse(next.at) - Date.parse(previous.at))) : 0;
    this.#timer = setTimeout(() => {
      this.#show(this.#shown + 1);
      this.#schedule();
    }, gap / Number(this.#speed.value));
  }

  #show(shown: number): void {
    this.#shown = shown;
    this.#scrubber.value = String(shown);
    this.#position.textContent = `${shown} / ${this.#events.length} events`;
    this.root.dataset.shown = String(shown);
    this.draw(shown);
  }

  #setPlaying(playing: boolean): void {
    this.#play.dataset.playing = String(playing);
    this.#play.textContent = playing ? "Pause" : "Play";
  }
}
