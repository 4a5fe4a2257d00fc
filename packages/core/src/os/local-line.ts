/**
 * A line of this process's callers of one name (a lock, a mutex): each waits
 * for `ahead`, the callers before it, and `leave`s to let the next one go, so
 * a process never contends with itself for something shared with others.
 */
export function joinLocalLine(lines: Map<string, Promise<void>>, name: string): { ahead: Promise<void>; leave: () => void } {
  const ahead = lines.get(name) ?? Promise.resolve();
  let finish!: () => void;
  const mine = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const tail = ahead.then(() => mine);
  lines.set(name, tail);
  return {
    ahead,
    leave: () => {
      finish();
      if (lines.get(name) === tail) lines.delete(name);
    },
  };
}
