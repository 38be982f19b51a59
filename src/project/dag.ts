/** The DAG helpers the loader and the runner share. */
export interface DagNode {
  readonly uuid: string;
  readonly upstream: readonly string[];
}

/** A cycle as a path of uuids that starts and ends on the same block, or null. */
export function findCycle(nodes: readonly DagNode[]): string[] | null {
  const byId = new Map(nodes.map((n) => [n.uuid, n]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];

  const visit = (id: string): string[] | null => {
    const s = state.get(id);
    if (s === 'done') return null;
    if (s === 'visiting') return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, 'visiting');
    stack.push(id);
    for (const up of byId.get(id)?.upstream ?? []) {
      const cycle = visit(up);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(id, 'done');
    return null;
  };

  for (const node of nodes) {
    const cycle = visit(node.uuid);
    // Reported downstream-first reads oddly; show it in data-flow order.
    if (cycle) return cycle.reverse();
  }
  return null;
}

/** Uuids in an order where every block comes after its upstreams (stable by declaration). */
export function topologicalOrder(nodes: readonly DagNode[]): string[] {
  const order: string[] = [];
  const done = new Set<string>();
  const byId = new Map(nodes.map((n) => [n.uuid, n]));
  const visit = (id: string) => {
    if (done.has(id)) return;
    done.add(id);
    for (const up of byId.get(id)?.upstream ?? []) visit(up);
    order.push(id);
  };
  nodes.forEach((n) => visit(n.uuid));
  return order;
}

/** Every block downstream of `uuid` (not including it). */
export function downstreamOf(nodes: readonly DagNode[], uuid: string): Set<string> {
  const result = new Set<string>();
  let frontier = [uuid];
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const n of nodes) {
      if (!result.has(n.uuid) && n.upstream.some((u) => frontier.includes(u))) {
        result.add(n.uuid);
        next.push(n.uuid);
      }
    }
    frontier = next;
  }
  return result;
}
