// Conflict markers in a merged text: where they are (to show the hunks a
// forecast or a failed merge reports) and whether any remain (a resolver's
// result is refused while one does).

/** One `<<<<<<<` ... `>>>>>>>` region, 1-based inclusive line numbers. */
export interface MarkerRegion {
  readonly start: number;
  readonly end: number;
}

// git writes 7 marker characters by default; the conflict-marker-size attribute makes them longer.
const OPEN = /^(<{7,})(?: |$)/u;

/** Every complete marker region of `text`, in order. */
export function markerRegions(text: string): MarkerRegion[] {
  const lines = text.split("\n");
  const regions: MarkerRegion[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = OPEN.exec(lines[i]!);
    if (!open) continue;
    const close = new RegExp(`^>{${open[1]!.length}}(?: |$)`, "u");
    const end = lines.findIndex((line, j) => j > i && close.test(line));
    if (end === -1) break;
    regions.push({ start: i + 1, end: end + 1 });
    i = end;
  }
  return regions;
}

/** True while `text` holds a conflict marker line of any of the three kinds git writes (open, separator, close). */
export function hasConflictMarkers(text: string): boolean {
  return /^(?:<{7,}(?: |$)|={7,}$|>{7,}(?: |$))/mu.test(text);
}

/**
 * The marker regions of `text` with `context` lines around each (overlapping
 * windows joined), each under a `@@ lines a-b @@` header: enough for a person
 * or a resolver to see both sides without the whole file.
 */
export function conflictHunks(text: string, context = 3): string | undefined {
  const regions = markerRegions(text);
  if (regions.length === 0) return undefined;
  const lines = text.split("\n");
  // A text ending in a newline splits into one empty last element that is not a line.
  const lineCount = text.endsWith("\n") ? lines.length - 1 : lines.length;
  const windows: MarkerRegion[] = [];
  for (const region of regions) {
    const start = Math.max(1, region.start - context);
    const end = Math.min(lineCount, region.end + context);
    const last = windows.at(-1);
    if (last && start <= last.end + 1) windows[windows.length - 1] = { start: last.start, end: Math.max(last.end, end) };
    else windows.push({ start, end });
  }
  return windows.map((w) => [`@@ lines ${w.start}-${w.end} @@`, ...lines.slice(w.start - 1, w.end)].join("\n")).join("\n");
}
