// Small hand-drawn bar charts (inline SVG, no library): one bar per bucket, the numbers in each
// bar's tooltip, in data-* attributes and in the chart's accessible name.

export interface Bar {
  /** What the bucket is called: `week of Mon 1 Dec`. */
  label: string;
  /** The value; null when the bucket has none (no bar, a faint tick). */
  value: number | null;
  /** The value as people read it: `6 deployments`, `16.7%`, `3m 2s`. */
  text: string;
  /** The bucket's start on the axis: `4 Nov`. */
  tick: string;
}

const W = 240;
const H = 56;

/** `title` is shown; `name` (default: the title) starts the accessible name. */
export function BarChart(props: { title: string; name?: string; metric: string; bars: Bar[]; max?: number; tone?: "blue" | "amber" | "red" | "green" }) {
  const { bars } = props;
  const max = props.max ?? Math.max(0, ...bars.map((b) => b.value ?? 0));
  const n = Math.max(1, bars.length);
  const slot = W / n;
  const gap = Math.min(4, slot * 0.25);
  const name = `${props.name ?? props.title}: ${bars.map((b) => `${b.label} ${b.text}`).join("; ")}`;
  return (
    <figure className={`chart ${props.tone ?? "blue"}`} data-metric={props.metric}>
      <figcaption title={props.name ?? props.title}>{props.title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label={name}>
        <line x1={0} y1={H - 0.5} x2={W} y2={H - 0.5} className="axis" />
        {bars.map((b, i) => {
          const x = i * slot + gap / 2;
          const w = Math.max(1, slot - gap);
          if (b.value === null) {
            return (
              <rect key={i} x={x} y={H - 2} width={w} height={2} className="none" data-value="" data-label={b.label}>
                <title>{`${b.label}: ${b.text}`}</title>
              </rect>
            );
          }
          const h = max > 0 ? Math.max(b.value > 0 ? 2 : 0, (b.value / max) * (H - 4)) : 0;
          return (
            <rect key={i} x={x} y={H - h} width={w} height={Math.max(h, 0.01)} className="bar" data-value={b.value} data-label={b.label}>
              <title>{`${b.label}: ${b.text}`}</title>
            </rect>
          );
        })}
      </svg>
      <div className="chart-axis muted small" aria-hidden="true">
        <span>{bars[0]?.tick}</span>
        {bars.length > 1 && <span>{bars[bars.length - 1]?.tick}</span>}
      </div>
    </figure>
  );
}
