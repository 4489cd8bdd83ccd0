// The loss curves as a standalone SVG chart (no dependencies): train loss per step
// (faint), its moving average, and validation loss, in bits per character.

export interface Curves {
  title: string;
  /** [step, bits per char] */
  train: [number, number][];
  trainSmooth: [number, number][];
  val: [number, number][];
}

/** About `count` round tick values; the first is at or below lo, the last at or above hi. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) hi = lo + 1;
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const first = Math.floor(lo / step + 1e-9), last = Math.ceil(hi / step - 1e-9);
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function fmt(v: number): string {
  if (Math.abs(v) >= 1e6) return `${+(v / 1e6).toFixed(2)}M`;
  return (+v.toFixed(3)).toLocaleString('en-US');
}

/** At most `max` points, averaging neighbours, so long runs stay light. */
function thin(points: [number, number][], max: number): [number, number][] {
  if (points.length <= max) return points;
  const k = Math.ceil(points.length / max), out: [number, number][] = [];
  for (let i = 0; i < points.length; i += k) {
    const part = points.slice(i, i + k);
    out.push([part[part.length - 1][0], part.reduce((a, p) => a + p[1], 0) / part.length]);
  }
  return out;
}

export function lossChartSvg(c: Curves): string {
  const W = 800, H = 460, left = 70, right = 24, top = 48, bottom = 62;
  const pw = W - left - right, ph = H - top - bottom;
  const all = [...c.train, ...c.val];
  const steps = all.map((p) => p[0]);
  const x0 = 0, x1 = Math.max(1, ...steps);
  // the y range follows the smoothed and validation curves; raw spikes are clipped
  const ys = [...c.trainSmooth, ...c.val].map((p) => p[1]).filter(Number.isFinite);
  const yLo = ys.length ? Math.min(...ys) : 0, yHi = ys.length ? Math.max(...ys) : 1;
  const yt = niceTicks(Math.max(0, yLo - 0.02 * (yHi - yLo)), yHi, 6);
  const xt = niceTicks(x0, x1, 8);
  const y0 = yt[0], yMax = yt[yt.length - 1];
  const X = (s: number) => left + ((s - x0) / (xt[xt.length - 1] - x0 || 1)) * pw;
  const Y = (v: number) => top + ph - ((v - y0) / (yMax - y0 || 1)) * ph;
  const line = (pts: [number, number][]) => pts.filter((p) => Number.isFinite(p[1])).map((p) => `${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join(' ');

  const o: string[] = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="13">`);
  o.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  o.push(`<text x="${W / 2}" y="26" text-anchor="middle" font-size="16" font-weight="bold">${esc(c.title)}</text>`);
  o.push(`<defs><clipPath id="plot"><rect x="${left}" y="${top}" width="${pw}" height="${ph}"/></clipPath></defs>`);
  // grid and tick labels
  for (const v of yt) {
    o.push(`<line x1="${left}" x2="${left + pw}" y1="${Y(v).toFixed(1)}" y2="${Y(v).toFixed(1)}" stroke="#e3e3e3"/>`);
    o.push(`<text x="${left - 8}" y="${(Y(v) + 4).toFixed(1)}" text-anchor="end" fill="#333">${fmt(v)}</text>`);
  }
  for (const s of xt) {
    o.push(`<line x1="${X(s).toFixed(1)}" x2="${X(s).toFixed(1)}" y1="${top}" y2="${top + ph}" stroke="#f0f0f0"/>`);
    o.push(`<text x="${X(s).toFixed(1)}" y="${top + ph + 20}" text-anchor="middle" fill="#333">${fmt(s)}</text>`);
  }
  // axes
  o.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + ph}" stroke="#333"/>`);
  o.push(`<line x1="${left}" x2="${left + pw}" y1="${top + ph}" y2="${top + ph}" stroke="#333"/>`);
  o.push(`<text x="${left + pw / 2}" y="${H - 18}" text-anchor="middle" fill="#111">training step</text>`);
  o.push(`<text transform="translate(20 ${top + ph / 2}) rotate(-90)" text-anchor="middle" fill="#111">loss (bits per character)</text>`);
  // curves
  o.push(`<g clip-path="url(#plot)" fill="none" stroke-linejoin="round">`);
  if (c.train.length) o.push(`<polyline points="${line(thin(c.train, 1500))}" stroke="#9ecae1" stroke-width="1"/>`);
  if (c.trainSmooth.length) o.push(`<polyline points="${line(thin(c.trainSmooth, 1500))}" stroke="#1f63b4" stroke-width="2.2"/>`);
  if (c.val.length) {
    o.push(`<polyline points="${line(c.val)}" stroke="#e6550d" stroke-width="2.2"/>`);
    for (const p of c.val.length <= 60 ? c.val : []) o.push(`<circle cx="${X(p[0]).toFixed(1)}" cy="${Y(p[1]).toFixed(1)}" r="3" fill="#e6550d"/>`);
  }
  o.push('</g>');
  // legend
  const lastVal = c.val.length ? c.val[c.val.length - 1] : null;
  const bestVal = c.val.length ? c.val.reduce((a, b) => (b[1] < a[1] ? b : a)) : null;
  const lw = 250, lx = left + pw - lw - 10, ly = top + 10;
  o.push(`<rect x="${lx}" y="${ly}" width="${lw}" height="${lastVal ? 112 : 74}" fill="#ffffff" fill-opacity="0.92" stroke="#bbb"/>`);
  const item = (i: number, color: string, width: number, label: string) => {
    const y = ly + 18 + i * 20;
    o.push(`<line x1="${lx + 10}" x2="${lx + 38}" y1="${y}" y2="${y}" stroke="${color}" stroke-width="${width}"/>`);
    o.push(`<text x="${lx + 46}" y="${y + 4}" fill="#111">${esc(label)}</text>`);
  };
  item(0, '#9ecae1', 1.5, 'train (per step)');
  item(1, '#1f63b4', 2.2, 'train (moving average)');
  item(2, '#e6550d', 2.2, 'validation');
  if (lastVal && bestVal) {
    o.push(`<text x="${lx + 10}" y="${ly + 82}" fill="#111">last validation: ${lastVal[1].toFixed(3)} at step ${fmt(lastVal[0])}</text>`);
    o.push(`<text x="${lx + 10}" y="${ly + 100}" fill="#111">best validation: ${bestVal[1].toFixed(3)} at step ${fmt(bestVal[0])}</text>`);
  }
  o.push('</svg>');
  return o.join('\n') + '\n';
}
