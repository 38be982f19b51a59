import { el, fmtDuration } from './ui.js';

/**
 * Per-block timeline of a run: one bar from start to end (or now), labelled
 * with block, status and duration. Drawn at the width it is given (the card's),
 * so a narrow window gets a narrower chart instead of a clipped one.
 */
export function ganttSvg(run, blocks, width = 820) {
  const label = Math.round(Math.min(170, width * 0.28)),
    rowH = 26;
  const maxChars = Math.floor((label - 8) / 7);
  const t0 = new Date(run.startedAt ?? run.createdAt).getTime();
  const ends = blocks.map((b) => new Date(b.finishedAt ?? (b.startedAt ? Date.now() : t0)).getTime());
  const t1 = Math.max(t0 + 1, new Date(run.finishedAt ?? Date.now()).getTime(), ...ends);
  const scale = (t) => label + ((t - t0) / (t1 - t0)) * (width - label - 90);
  const height = 24 + blocks.length * rowH;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const x = label + f * (width - label - 90);
    return el(
      'g',
      {},
      el('line', { class: 'grid', x1: x, x2: x, y1: 16, y2: height }),
      el('text', { class: 'axis', x, y: 11, 'text-anchor': 'middle' }, fmtDuration(t0, t0 + f * (t1 - t0))),
    );
  });
  const rows = blocks.map((b, i) => {
    const y = 22 + i * rowH;
    const start = b.startedAt ? new Date(b.startedAt).getTime() : null;
    const end = b.finishedAt ? new Date(b.finishedAt).getTime() : start !== null ? Date.now() : null;
    const x = start !== null ? scale(start) : label;
    const w = start !== null ? Math.max(3, scale(end) - scale(start)) : 0;
    const text = `${b.status.replace('_', ' ')}${start !== null ? ` · ${fmtDuration(b.startedAt, b.finishedAt)}` : ''}`;
    return el(
      'g',
      {},
      el('title', {}, `${b.block}: ${text}${b.attempts > 1 ? ` · ${b.attempts} attempts` : ''}`),
      el('text', { class: 'label', x: 0, y: y + 13 }, b.block.length > maxChars ? `${b.block.slice(0, maxChars - 1)}…` : b.block),
      w > 0 ? el('rect', { class: `bar s-${b.status}`, x, y: y + 2, width: w, height: rowH - 8, rx: 3 }) : null,
      statusLabel(text, x, w, y + 13, label, width),
    );
  });
  return el(
    'svg',
    {
      class: 'gantt',
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      role: 'img',
      'aria-label': `Timeline of run ${run.id}: ${blocks.map((b) => `${b.block} ${b.status}`).join(', ')}`,
    },
    ...ticks,
    ...rows,
  );
}

/** Right of the bar when it fits, else left of it, so the label never runs off the chart. */
function statusLabel(text, x, w, y, label, width) {
  const textWidth = text.length * 6.5;
  if (x + w + 6 + textWidth <= width || x - 6 - textWidth < label)
    return el('text', { class: 'axis', x: Math.min(x + w + 6, width - textWidth), y }, text);
  return el('text', { class: 'axis', x: x - 6, y, 'text-anchor': 'end' }, text);
}
