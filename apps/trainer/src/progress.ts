// Live progress: a cli-progress bar on a terminal; plain lines now and then otherwise.
import cliProgress from 'cli-progress';

export interface Status {
  step: number;
  total: number;
  /** Moving average of the training loss, bits per character. */
  loss: number | null;
  /** Last validation loss, bits per character. */
  val: number | null;
  charsPerSec: number;
  etaSec: number;
}

export interface Reporter {
  update(s: Status, important?: boolean): void;
  /** A line of text (a sample, a note) that must not garble the bar. */
  log(text: string): void;
  stop(): void;
}

export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec)) return '--';
  sec = Math.max(0, Math.round(sec));
  const h = Math.floor(sec / 3600), m = Math.floor((sec % 3600) / 60), s = sec % 60;
  return h > 0 ? `${h}h ${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m ${String(s).padStart(2, '0')}s` : `${s}s`;
}

const num = (v: number | null, d = 3) => (v === null || !Number.isFinite(v) ? '--' : v.toFixed(d));
const rate = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '--');

function fields(s: Status) {
  return { loss: num(s.loss), val: num(s.val), cps: rate(s.charsPerSec), remaining: formatDuration(s.etaSec) };
}

class BarReporter implements Reporter {
  private multi: cliProgress.MultiBar;
  private bar: cliProgress.SingleBar | null = null;
  constructor(private out: NodeJS.WriteStream) {
    this.multi = new cliProgress.MultiBar({
      stream: out,
      format: 'step {value}/{total} {bar} loss {loss} bpc | val {val} bpc | {cps} char/s | ETA {remaining}',
      barsize: 24,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      fps: 8,
    }, cliProgress.Presets.shades_classic);
  }
  update(s: Status): void {
    if (!this.bar) this.bar = this.multi.create(s.total, s.step, fields(s));
    else this.bar.update(s.step, fields(s));
  }
  log(text: string): void { this.multi.log(text.endsWith('\n') ? text : text + '\n'); }
  stop(): void { this.multi.stop(); }
}

class PlainReporter implements Reporter {
  private lastAt = 0;
  constructor(private out: NodeJS.WritableStream, private everySec: number) {}
  update(s: Status, important = false): void {
    const now = Date.now();
    if (!important && now - this.lastAt < this.everySec * 1000) return;
    this.lastAt = now;
    const f = fields(s);
    this.out.write(`step ${s.step}/${s.total} | loss ${f.loss} bpc | val ${f.val} bpc | ${f.cps} char/s | ETA ${f.remaining}\n`);
  }
  log(text: string): void { this.out.write(text.endsWith('\n') ? text : text + '\n'); }
  stop(): void {}
}

/** The bar when stdout is a terminal, else a plain line on every important update and at most every `everySec` seconds. */
export function makeReporter(everySec = 15): Reporter {
  return process.stdout.isTTY ? new BarReporter(process.stdout) : new PlainReporter(process.stdout, everySec);
}
