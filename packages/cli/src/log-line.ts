// The kernel's log lines (pino JSON) as a person reads them, for a command
// that draws on the terminal itself (run's live progress): one line each, its
// level, the plugin or instance it concerns, the message and an error's.
const LEVELS: Record<number, string> = { 10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal" };

interface LogRecord {
  level?: number;
  msg?: string;
  plugin?: string;
  instance?: string;
  err?: { message?: string };
}

export function formatLogLine(json: string): string {
  let record: LogRecord;
  try {
    record = JSON.parse(json) as LogRecord;
  } catch {
    // Not pino's (never expected): shown as it came rather than lost.
    return json.trimEnd();
  }
  const level = LEVELS[record.level ?? 30] ?? "log";
  const about = record.plugin ?? record.instance;
  const error = record.err?.message && !record.msg?.includes(record.err.message) ? ` (${record.err.message})` : "";
  return `${level}${about ? ` [${about}]` : ""}: ${record.msg ?? ""}${error}`;
}
