// SPDX-License-Identifier: MIT
// Left-to-right layout of the task graph with dagre (@dagrejs/dagre):
// nodes are tasks, edges go from each of a task's `parents` to the task.
import dagre from "@dagrejs/dagre";

export const NODE_WIDTH = 170;
export const NODE_HEIGHT = 44;

const EMPTY = { nodes: [], edges: [], positions: new Map(), width: 0, height: 0 };

/**
 * Positions of the tasks and their edges (top-left corner of each node).
 * Only the structure matters (ids and parents): the caller recomputes it
 * when the structure changes, not when statuses do.
 * @returns {{nodes: Array, edges: Array, positions: Map, width: number, height: number}}
 */
export function layoutTasks(tasks) {
  if (!tasks.length) return EMPTY;
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 18, ranksep: 60, marginx: 10, marginy: 10 });
  g.setDefaultEdgeLabel(() => ({}));
  // A task is keyed by its id; `parents` holds the ids (or keys) of its parents.
  const byKey = new Map();
  tasks.forEach((t) => {
    byKey.set(t.id, t.id);
    if (t.key) byKey.set(t.key, t.id);
    g.setNode(t.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  });
  tasks.forEach((t) =>
    (t.parents || []).forEach((p) => {
      if (byKey.has(p)) g.setEdge(byKey.get(p), t.id);
    })
  );
  dagre.layout(g);
  const positions = new Map();
  const nodes = g.nodes().map((id) => {
    const n = g.node(id);
    const node = { id, x: n.x - n.width / 2, y: n.y - n.height / 2 };
    positions.set(id, node);
    return node;
  });
  const edges = g
    .edges()
    .map((e) => ({ from: e.v, to: e.w, points: g.edge(e).points }));
  const { width, height } = g.graph();
  // dagre leaves -Infinity (no node) or NaN in degenerate cases: never pass them on.
  return {
    nodes,
    edges,
    positions,
    width: Number.isFinite(width) ? width : 0,
    height: Number.isFinite(height) ? height : 0,
  };
}
