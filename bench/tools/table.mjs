// Print a report (default bench-results/latest.json) as the Markdown table BENCHMARKS.md shows.
//   node bench/tools/table.mjs [report.json]
import { readFileSync } from "node:fs";
import path from "node:path";
import { renderTable } from "../lib/rows.mjs";
import { ROOT } from "../lib/util.mjs";

const file = process.argv[2] ?? path.join(ROOT, "bench-results", "latest.json");
const report = JSON.parse(readFileSync(file, "utf8"));
const m = report.machine;
console.log(renderTable(report.rows, { markdown: true }));
console.log();
console.log(`Run ${report.when}${report.quick ? " (--quick)" : ""}, ${report.durationSeconds.toFixed(0)} s; ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, node ${m.node}, ${m.tmux}; load average ${m.loadAverageAtStart.join(" / ")} at start, ${m.loadAverageAtEnd.join(" / ")} at end${report.git ? `; commit ${report.git.commit.slice(0, 12)}${report.git.uncommittedFiles ? ` + ${report.git.uncommittedFiles} uncommitted files` : ""}` : ""}.`);
