import { el } from './ui.js';

const W = 170,
  H = 48,
  GAP_X = 70,
  GAP_Y = 22;

/**
 * Layered layout: a block's layer is its longest path from a root, so every
 * edge points right; within a layer blocks keep pipeline.yaml's order.
 */
export function layout(blocks) {
  const byId = new Map(blocks.map((b) => [b.uuid, b]));
  const layer = new Map();
  const depth = (id, seen = new Set()) => {
    if (layer.has(id)) return layer.get(id);
    if (seen.has(id)) return 0;
    seen.add(id);
    const ups = (byId.get(id)?.upstream ?? []).filter((u) => byId.has(u));
    const d = ups.length ? Math.max(...ups.map((u) => depth(u, seen))) + 1 : 0;
    layer.set(id, d);
    return d;
  };
  blocks.forEach((b) => depth(b.uuid));
  const columns = [];
  for (const b of blocks) (columns[layer.get(b.uuid)] ??= []).push(b);
  const tallest = Math.max(...columns.map((c) => c.length));
  const pos = new Map();
  columns.forEach((col, x) => {
    const offset = ((tallest - col.length) * (H + GAP_Y)) / 2;
    col.forEach((b, y) => pos.set(b.uuid, { x: 10 + x * (W + GAP_X), y: 10 + offset + y * (H + GAP_Y) }));
  });
  return { pos, width: 20 + columns.length * (W + GAP_X) - GAP_X, height: 20 + tallest * (H + GAP_Y) - GAP_Y };
}

/** The pipeline's DAG as SVG; each block shows its status from the latest run in words and colour. */
export function dagSvg(pipeline) {
  const { pos, width, height } = layout(pipeline.blocks);
  const edges = pipeline.blocks.flatMap((b) =>
    b.upstream
      .filter((u) => pos.has(u))
      .map((u) => {
        const a = pos.get(u),
          c = pos.get(b.uuid);
        const x1 = a.x + W,
          y1 = a.y + H / 2,
          x2 = c.x - 6,
          y2 = c.y + H / 2,
          mid = (x1 + x2) / 2;
        return el('path', { class: 'edge', d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`, 'marker-end': 'url(#arrow)' });
      }),
  );
  const nodes = pipeline.blocks.map((b) => {
    const p = pos.get(b.uuid);
    const status = b.status ?? 'none';
    return el(
      'g',
      { class: `node s-${status}`, transform: `translate(${p.x},${p.y})` },
      el('title', {}, `${b.uuid} (${b.kind}): ${status === 'none' ? 'never run' : status}`),
      el('rect', { width: W, height: H, rx: 7 }),
      el('text', { x: 10, y: 19 }, b.uuid.length > 22 ? `${b.uuid.slice(0, 21)}…` : b.uuid),
      el('text', { x: 10, y: 37, class: 'kind' }, `${b.kind} · ${status === 'none' ? 'never run' : status.replace('_', ' ')}`),
    );
  });
  return el(
    'svg',
    {
      class: 'dag',
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      role: 'img',
      'aria-label': `DAG of ${pipeline.name}: ${pipeline.blocks.map((b) => `${b.uuid} after ${b.upstream.join(' and ') || 'nothing'}`).join('; ')}`,
    },
    el(
      'defs',
      {},
      el(
        'marker',
        { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto' },
        el('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#9aa1b1' }),
      ),
    ),
    ...edges,
    ...nodes,
  );
}
