/**
 * Who holds a lock or a queue claim in Redis, so that a holder killed with -9
 * on this machine is noticed at once instead of after its lease (the
 * embedded store does the same with its lock files). A holder is named by
 * the machine's boot id, its pid namespace, pid and process start time: only
 * a process of the same boot and pid namespace can tell that such a pid is
 * gone (a container sharing the host name but not the pid namespace cannot,
 * and leaves it to the lease). Anywhere else the lease decides, as before.
 */
import { readFile, readlink } from "node:fs/promises";
import { currentProcess, isSameProcess } from "@tmux-claude/core";

interface Place {
  boot: string;
  pidNamespace: string;
}

let here: Promise<Place | undefined> | undefined;

/** This machine's boot and pid namespace; undefined where they cannot be read (not Linux). */
function place(): Promise<Place | undefined> {
  here ??= (async () => {
    if (process.platform !== "linux") return undefined;
    try {
      const boot = (await readFile("/proc/sys/kernel/random/boot_id", "utf8")).trim();
      const pidNamespace = await readlink("/proc/self/ns/pid");
      return boot && pidNamespace ? { boot, pidNamespace } : undefined;
    } catch {
      return undefined;
    }
  })();
  return here;
}

/** This process as a holder: `<boot>|<pid namespace>|<pid>|<start>`, or "" where it cannot be named (then only the lease counts). */
export async function holderName(): Promise<string> {
  const [where, me] = await Promise.all([place(), currentProcess()]);
  if (!where || !me.start) return "";
  return [where.boot, where.pidNamespace, String(me.pid), me.start].join("|");
}

/** Whether the named holder is a process of this boot and pid namespace that no longer runs. */
export async function isDeadHere(holder: string): Promise<boolean> {
  const parts = holder.split("|");
  if (parts.length !== 4) return false;
  const [boot, pidNamespace, pid, start] = parts as [string, string, string, string];
  const where = await place();
  if (!where || where.boot !== boot || where.pidNamespace !== pidNamespace || !/^\d+$/u.test(pid) || !start) return false;
  return !(await isSameProcess({ pid: Number(pid), start }));
}
