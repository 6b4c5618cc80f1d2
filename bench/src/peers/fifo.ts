/**
 * FIFO check shared by the peers: out-of-order starts per lane, the same count
 * bench-handoff.ts reports for Baton (a start whose submit index is below the
 * highest index already started in that lane).
 */
export function inversions(started: Map<string, number[]>): number {
  let count = 0;
  for (const order of started.values()) {
    let highest = -1;
    for (const index of order) {
      if (index < highest) count++;
      highest = Math.max(highest, index);
    }
  }
  return count;
}

export function recordStart(started: Map<string, number[]>, lane: string, index: number): void {
  const list = started.get(lane) ?? [];
  list.push(index);
  started.set(lane, list);
}
