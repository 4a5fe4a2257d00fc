// Small formatting and DOM helpers shared by the views.
import type { InstanceView, ProgressView, TokenUsage } from "./protocol.js";

/** Creates an element with a class, optional text and data attributes (never innerHTML: text stays text). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  options: { className?: string; text?: string; testid?: string; data?: Record<string, string> } = {},
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (options.className) node.className = options.className;
  if (options.text !== undefined) node.textContent = options.text;
  if (options.testid) node.dataset.testid = options.testid;
  for (const [key, value] of Object.entries(options.data ?? {})) node.dataset[key] = value;
  return node;
}

/** A progress bar with its "1/3" beside it; fillProgress shows an instance's (hidden without one). */
export function progressCell(): HTMLElement {
  const cell = el("span", { className: "progress", testid: "progress" });
  cell.append(el("progress", { className: "bar" }), el("span", { className: "progress-text" }));
  cell.hidden = true;
  return cell;
}

export function fillProgress(cell: HTMLElement, progress: ProgressView | undefined): void {
  if (cell.hidden !== (progress === undefined)) cell.hidden = progress === undefined;
  if (!progress) return;
  const bar = cell.querySelector("progress")!;
  // A list of 0 items is no work left: a full bar, not an empty one.
  const max = String(Math.max(progress.total, 1));
  const value = String(progress.total === 0 ? 1 : progress.done);
  if (bar.getAttribute("max") !== max) bar.setAttribute("max", max);
  if (bar.getAttribute("value") !== value) bar.setAttribute("value", value);
  setText(cell.querySelector(".progress-text")!, `${progress.done}/${progress.total}`);
  const title = progress.current ? `${progress.done}/${progress.total}: ${progress.current}` : `${progress.done} of ${progress.total} steps done`;
  if (cell.title !== title) cell.title = title;
}

/** Sets text only when it differs, so an unchanged cell causes no DOM mutation. */
export function setText(node: Element, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}

export function setData(node: HTMLElement, key: string, value: string): void {
  if (node.dataset[key] !== value) node.dataset[key] = value;
}

export function age(fromIso: string, nowMs = Date.now()): string {
  const seconds = Math.max(0, Math.floor((nowMs - Date.parse(fromIso)) / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d`;
}

/** How often shown ages are rewritten: they count seconds only under a minute, so 5 s is close enough. */
const AGE_REFRESH_MS = 5_000;

/** Every view that shows an age ticks on the same beat, so the tree and the detail never disagree. */
export function onAgeTick(refresh: (nowMs: number) => void): void {
  setInterval(() => refresh(Date.now()), AGE_REFRESH_MS);
}

export function time(iso: string | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}

export function cost(usd: number | undefined): string {
  if (usd === undefined) return "";
  return usd < 0.01 && usd > 0 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

export function tokens(n: number | undefined): string {
  if (n === undefined) return "";
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)}k`;
  return `${(n / 1_000_000).toFixed(2)}M`;
}

export function totalTokens(usage: TokenUsage): number {
  return usage.inputTokens + usage.outputTokens + usage.cacheCreationInputTokens + usage.cacheReadInputTokens;
}

export function label(instance: InstanceView): string {
  return instance.name ? `${instance.name} (${instance.role})` : instance.role;
}

/** Why an instance is in the attention list, in words: its question, its error, or the files it would conflict on. */
/** The status to show: an instance whose node is down is `unreachable`, whatever its node last wrote. */
export function shownStatus(instance: InstanceView): string {
  return instance.unreachable !== undefined ? "unreachable" : instance.status;
}

export function attentionReason(instance: InstanceView): string {
  if (instance.unreachable !== undefined) return `unreachable: ${instance.unreachable} (last seen ${instance.status})`;
  const conflicts = instance.status === "exited" ? [] : (instance.git?.conflicts ?? []);
  const conflictText = conflicts.map((conflict) => `conflicts with ${conflict.with} on ${conflict.files.join(", ")}`).join("; ");
  switch (instance.status) {
    case "waiting":
      return [instance.statusReason ?? "waiting for your answer", conflictText].filter(Boolean).join("; ");
    case "error":
      return [instance.statusReason ? `error: ${instance.statusReason}` : "error (no reason reported)", conflictText].filter(Boolean).join("; ");
    case "busy":
      return [instance.stalled ? `stalled since ${new Date(instance.stalled.since).toLocaleString()}: ${instance.stalled.why}` : "", conflictText].filter(Boolean).join("; ");
    case "limited":
      return [`usage limit until ${instance.limitedUntil ? new Date(instance.limitedUntil).toLocaleString() : "its reset"}`, conflictText].filter(Boolean).join("; ");
    default:
      return conflictText || (instance.statusReason ?? "");
  }
}

/** A list whose `li[data-id]` rows (tabIndex 0, role option) are chosen by click, Enter or Space. */
export function selectableList(list: HTMLElement, onSelect: (id: string) => void): void {
  list.setAttribute("role", "listbox");
  list.addEventListener("click", (event) => {
    const item = (event.target as Element).closest<HTMLElement>("li[data-id]");
    if (item?.dataset.id) onSelect(item.dataset.id);
  });
  list.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" && event.key !== " ") return;
    const item = (event.target as Element).closest<HTMLElement>("li[data-id]");
    if (!item?.dataset.id) return;
    event.preventDefault();
    onSelect(item.dataset.id);
  });
}
