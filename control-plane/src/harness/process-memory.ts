import { readdir, readFile } from 'node:fs/promises';

/** Resident memory of a process and all its descendants, in bytes (Linux /proc), or null if gone. */
export async function treeRss(rootPid: number): Promise<number | null> {
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  const pageSize = 4096;
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const close = stat.lastIndexOf(')');
    if (close === -1) continue;
    const fields = stat.slice(close + 2).split(' ');
    const pid = Number(entry);
    const ppid = Number(fields[1]);
    rss.set(pid, Number(fields[21]) * pageSize);
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  if (!rss.has(rootPid)) return null;
  let total = 0;
  const stack = [rootPid];
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    total += rss.get(pid) ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}
