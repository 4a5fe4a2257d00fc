import { summarize } from "./util.mjs";

/**
 * One result row. Timed rows carry samples (median and p95 are computed);
 * single-shot rows (wall time, throughput, CPU) carry `value`.
 */
export function timedRow({ id, label, samples, floor, floorLabel, target, note, unit = "ms" }) {
  const s = summarize(samples);
  const f = floor ? summarize(floor) : undefined;
  const r = {
    id,
    label,
    unit,
    n: s.n,
    median: s.median,
    p95: s.p95,
    min: s.min,
    max: s.max,
    floor: f ? { label: floorLabel, n: f.n, median: f.median, p95: f.p95, min: f.min } : undefined,
    note,
  };
  if (f) {
    r.diff = s.median - f.median;
    r.ratio = s.median / f.median;
    r.diffP95 = s.p95 - f.p95;
  }
  if (target) r.target = evaluate(target, r);
  return r;
}

export function valueRow({ id, label, value, unit, floor, floorLabel, target, note, n = 1, extra }) {
  const r = { id, label, unit, n, median: value, p95: undefined, note, ...extra };
  if (floor !== undefined) {
    r.floor = { label: floorLabel, median: floor };
    r.diff = value - floor;
    r.ratio = floor ? value / floor : undefined;
  }
  if (target) r.target = evaluate(target, r);
  return r;
}

export function pendingRow({ id, label, note }) {
  return { id, label, pending: true, note };
}

/** target: { text, limit(row) -> number, on: "median" } ; pass when row.median <= limit. */
function evaluate(target, r) {
  if (typeof target.pass === "boolean") return { text: target.text, pass: target.pass };
  const limit = target.limit(r);
  return { text: target.text, limit, pass: r.median <= limit };
}

export const targets = {
  floorPlus: (ms) => ({ text: `<= floor + ${ms} ms (p50)`, limit: (r) => r.floor.median + ms }),
  atMost: (v, unit) => ({ text: `<= ${v} ${unit} (p50)`, limit: () => v }),
  value: (v, unit) => ({ text: `<= ${v} ${unit}`, limit: () => v }),
};

// ------------------------------------------------------------------ table

function fmt(v, unit) {
  if (v === undefined || v === null || Number.isNaN(v)) return "";
  const a = Math.abs(v);
  if (unit === "ms") return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
  if (unit === "%") return v.toFixed(2);
  if (unit === "MB") return v.toFixed(1);
  if (unit === "msgs/s") return v.toFixed(0);
  return String(Math.round(v * 100) / 100);
}

export function renderTable(rows, { markdown = false } = {}) {
  const header = ["benchmark", "n", "median", "p95", "floor median", "floor p95", "ratio", "diff", "target", "result"];
  const lines = rows.map((r) => {
    if (r.pending || r.error) {
      const f = r.floor;
      return [
        r.label, "", "", "",
        f?.median !== undefined ? `${fmt(f.median, "ms")} ms` : "",
        f?.p95 !== undefined ? `${fmt(f.p95, "ms")} ms` : "",
        "", "", "",
        r.pending ? `pending: ${r.note}` : `error: ${r.error}`,
      ];
    }
    const u = r.unit;
    return [
      r.label,
      String(r.n ?? ""),
      `${fmt(r.median, u)} ${u}`,
      r.p95 !== undefined ? `${fmt(r.p95, u)} ${u}` : "",
      r.floor ? `${fmt(r.floor.median, u)} ${u}` : "",
      r.floor?.p95 !== undefined ? `${fmt(r.floor.p95, u)} ${u}` : "",
      r.ratio !== undefined ? `${r.ratio.toFixed(2)}x` : "",
      r.diff !== undefined ? `${r.diff >= 0 ? "+" : ""}${fmt(r.diff, u)} ${u}` : "",
      r.target ? r.target.text : "",
      r.target ? (r.target.pass ? "pass" : "MISS") : "",
    ];
  });
  if (markdown) {
    const esc = (c) => c.replaceAll("|", "\\|");
    return [
      `| ${header.join(" | ")} |`,
      `| ${header.map(() => "---").join(" | ")} |`,
      ...lines.map((l) => `| ${l.map(esc).join(" | ")} |`),
    ].join("\n");
  }
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const line = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...lines.map(line)].join("\n");
}
