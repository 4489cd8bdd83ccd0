// Canvas drawings: the loss chart and the gate-saturation scatter plots.

export interface Point { step: number; loss: number }

const FONT = '11px system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif';

/** Sizes a canvas to its CSS box at the device's pixel ratio; returns a context in CSS pixels. */
function fit(canvas: HTMLCanvasElement): { ctx: CanvasRenderingContext2D; w: number; h: number } {
  const dpr = Math.max(1, window.devicePixelRatio || 1);
  const w = Math.max(10, canvas.clientWidth), h = Math.max(10, canvas.clientHeight);
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return { ctx, w, h };
}

/** "Nice" tick values covering [lo, hi]. */
function ticks(lo: number, hi: number, count: number): number[] {
  const span = hi - lo || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= count) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

function fmtStep(v: number): string {
  return v >= 10000 ? `${+(v / 1000).toFixed(1)}k` : String(v);
}

export class LossChart {
  train: Point[] = [];
  val: Point[] = [];
  private pending = false;

  constructor(private canvas: HTMLCanvasElement) {
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  clear(): void { this.train = []; this.val = []; this.draw(); }

  addTrain(p: Point): void { this.train.push(p); this.thin(this.train); this.schedule(); }
  addVal(p: Point): void { this.val.push(p); this.schedule(); }

  /** Keeps at most ~2000 training points by averaging neighbours. */
  private thin(a: Point[]): void {
    if (a.length <= 2000) return;
    const out: Point[] = [];
    for (let i = 0; i + 1 < a.length; i += 2) out.push({ step: a[i + 1].step, loss: (a[i].loss + a[i + 1].loss) / 2 });
    if (a.length % 2) out.push(a[a.length - 1]);
    a.length = 0;
    a.push(...out);
  }

  private schedule(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => { this.pending = false; this.draw(); });
  }

  draw(): void {
    const { ctx, w, h } = fit(this.canvas);
    this.canvas.dataset.trainPoints = String(this.train.length);
    this.canvas.dataset.valPoints = String(this.val.length);
    const pad = { l: 46, r: 16, t: 14, b: 38 };
    const pw = w - pad.l - pad.r, ph = h - pad.t - pad.b;
    const all = [...this.train, ...this.val];
    ctx.font = FONT;
    if (all.length === 0) {
      ctx.fillStyle = '#9ca3af';
      ctx.textAlign = 'center';
      ctx.fillText('The loss appears here as the model trains.', w / 2, h / 2);
      return;
    }
    const maxStep = Math.max(1, ...all.map((p) => p.step));
    // the y range ignores the first few very high losses once there is enough history
    const losses = all.map((p) => p.loss).filter(Number.isFinite).sort((a, b) => a - b);
    let lo = losses[0], hi = losses[Math.min(losses.length - 1, Math.floor(losses.length * 0.995))];
    if (all.length < 20) hi = losses[losses.length - 1];
    // every validation point stays in view (there are few, and their rise is the news)
    for (const p of this.val) if (Number.isFinite(p.loss)) hi = Math.max(hi, p.loss);
    const m = (hi - lo) * 0.08 || 0.1;
    lo = Math.max(0, lo - m); hi = hi + m;
    const X = (s: number) => pad.l + (s / maxStep) * pw;
    const Y = (v: number) => pad.t + (1 - (Math.min(v, hi) - lo) / (hi - lo)) * ph;

    // grid and axes
    ctx.strokeStyle = '#eeebe4'; ctx.lineWidth = 1; ctx.fillStyle = '#6b7280';
    ctx.textAlign = 'right'; ctx.textBaseline = 'middle';
    for (const v of ticks(lo, hi, 5)) {
      const y = Math.round(Y(v)) + 0.5;
      ctx.beginPath(); ctx.moveTo(pad.l, y); ctx.lineTo(pad.l + pw, y); ctx.stroke();
      ctx.fillText(v.toFixed(hi - lo < 0.5 ? 2 : 1), pad.l - 6, y);
    }
    ctx.textAlign = 'center'; ctx.textBaseline = 'top';
    for (const s of ticks(0, maxStep, 6)) {
      const x = Math.round(X(s)) + 0.5;
      ctx.beginPath(); ctx.moveTo(x, pad.t); ctx.lineTo(x, pad.t + ph); ctx.stroke();
      ctx.fillText(fmtStep(s), x, pad.t + ph + 6);
    }
    ctx.strokeStyle = '#c9c4b9';
    ctx.beginPath(); ctx.moveTo(pad.l + 0.5, pad.t); ctx.lineTo(pad.l + 0.5, pad.t + ph); ctx.lineTo(pad.l + pw, pad.t + ph + 0.5); ctx.stroke();
    ctx.fillStyle = '#9ca3af'; ctx.textAlign = 'center'; ctx.textBaseline = 'bottom';
    ctx.fillText('training step', pad.l + pw / 2, h - 1);
    ctx.save(); ctx.translate(12, pad.t + ph / 2); ctx.rotate(-Math.PI / 2); ctx.textAlign = 'center'; ctx.textBaseline = 'middle';
    ctx.fillText('loss (nats / char)', 0, 0); ctx.restore();

    const css = getComputedStyle(document.documentElement);
    const trainColor = css.getPropertyValue('--train').trim() || '#3b5bdb';
    const valColor = css.getPropertyValue('--val').trim() || '#e8590c';
    // training loss: the raw reports faint, an exponential moving average on top
    if (this.train.length) {
      ctx.lineJoin = 'round';
      ctx.strokeStyle = trainColor; ctx.globalAlpha = 0.25; ctx.lineWidth = 1;
      line(ctx, this.train, X, Y);
      ctx.globalAlpha = 1; ctx.lineWidth = 2;
      let ema = this.train[0].loss;
      const smooth = this.train.map((p) => ({ step: p.step, loss: (ema = 0.85 * ema + 0.15 * p.loss) }));
      line(ctx, smooth, X, Y);
    }
    if (this.val.length) {
      ctx.strokeStyle = valColor; ctx.fillStyle = valColor; ctx.lineWidth = 2;
      line(ctx, this.val, X, Y);
      for (const p of this.val) { ctx.beginPath(); ctx.arc(X(p.step), Y(p.loss), 2.6, 0, Math.PI * 2); ctx.fill(); }
    }
    // legend
    ctx.textAlign = 'left'; ctx.textBaseline = 'middle'; ctx.font = FONT;
    const items: [string, string][] = [['training', trainColor], ['validation', valColor]];
    let lx = pad.l + pw - 170;
    for (const [label, color] of items) {
      ctx.fillStyle = color; ctx.fillRect(lx, pad.t + 6, 14, 3);
      ctx.fillStyle = '#4b5260'; ctx.fillText(label, lx + 19, pad.t + 8);
      lx += 85;
    }
  }
}

function line(ctx: CanvasRenderingContext2D, pts: Point[], X: (s: number) => number, Y: (v: number) => number): void {
  ctx.beginPath();
  pts.forEach((p, i) => (i ? ctx.lineTo(X(p.step), Y(p.loss)) : ctx.moveTo(X(p.step), Y(p.loss))));
  ctx.stroke();
}

export const LAYER_COLORS = ['#3b5bdb', '#e8590c', '#2f9e44', '#ae3ec9'];

/** The paper's saturation plot: one dot per unit, x = fraction left-saturated, y = fraction right-saturated. */
export function drawSaturation(canvas: HTMLCanvasElement, layers: { left: Float32Array; right: Float32Array }[]): void {
  const { ctx, w, h } = fit(canvas);
  const pad = { l: 34, r: 8, t: 8, b: 30 };
  const size = Math.min(w - pad.l - pad.r, h - pad.t - pad.b);
  const X = (v: number) => pad.l + v * size, Y = (v: number) => pad.t + (1 - v) * size;
  ctx.font = FONT;
  ctx.fillStyle = '#fff'; ctx.fillRect(pad.l, pad.t, size, size);
  ctx.strokeStyle = '#eeebe4'; ctx.lineWidth = 1;
  ctx.fillStyle = '#6b7280';
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    ctx.beginPath(); ctx.moveTo(X(v), Y(0)); ctx.lineTo(X(v), Y(1)); ctx.stroke();
    ctx.beginPath(); ctx.moveTo(X(0), Y(v)); ctx.lineTo(X(1), Y(v)); ctx.stroke();
    if (v === 0 || v === 0.5 || v === 1) {
      ctx.textAlign = 'center'; ctx.textBaseline = 'top'; ctx.fillText(String(v), X(v), Y(0) + 4);
      ctx.textAlign = 'right'; ctx.textBaseline = 'middle'; ctx.fillText(String(v), X(0) - 4, Y(v));
    }
  }
  // no unit can be past x + y = 1
  ctx.strokeStyle = '#d6d1c6'; ctx.setLineDash([4, 4]);
  ctx.beginPath(); ctx.moveTo(X(0), Y(1)); ctx.lineTo(X(1), Y(0)); ctx.stroke();
  ctx.setLineDash([]);
  ctx.strokeStyle = '#c9c4b9'; ctx.strokeRect(pad.l + 0.5, pad.t + 0.5, size, size);
  ctx.fillStyle = '#9ca3af'; ctx.textAlign = 'center'; ctx.textBaseline = 'bottom';
  ctx.fillText('fraction < 0.1', X(0.5), h - 1);
  ctx.save(); ctx.translate(9, Y(0.5)); ctx.rotate(-Math.PI / 2); ctx.textBaseline = 'middle'; ctx.fillText('fraction > 0.9', 0, 0); ctx.restore();
  layers.forEach((l, k) => {
    ctx.fillStyle = LAYER_COLORS[k % LAYER_COLORS.length];
    ctx.globalAlpha = 0.6;
    for (let j = 0; j < l.left.length; j++) {
      ctx.beginPath(); ctx.arc(X(l.left[j]), Y(l.right[j]), 3, 0, Math.PI * 2); ctx.fill();
    }
  });
  ctx.globalAlpha = 1;
  canvas.dataset.points = String(layers.reduce((n, l) => n + l.left.length, 0));
}
