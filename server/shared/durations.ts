// Durations as people write and read them: `30s`, `90m`, `12h`, `30d`, `2w`, and sums such as
// `1h30m`. The CLI parses them (--timeout, where a bare number means seconds, `token create
// --expires-in`, `policy set --soak`, `--at 3h`) and prints them; the domain writes them in
// messages (a policy's soak time). The API carries durations as google.protobuf.Duration
// (server/shared/proto.ts maps those).
//
// No imports: loaded on every CLI start, and by the domain.

/** Each unit's length in milliseconds. */
export const DURATION_UNITS = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
} as const;

export type DurationUnit = keyof typeof DURATION_UNITS;

const PART = /(\d+)(ms|s|m|h|d|w)/g;

/**
 * Milliseconds in `text`; throws an Error whose message names `flag` and the accepted forms.
 * `bareUnit` lets a plain number stand for that unit (e.g. "s" for --timeout 10).
 */
export function parseDuration(text: string, flag: string, bareUnit?: DurationUnit): number {
  const input = text.trim();
  if (bareUnit && /^\d+$/.test(input)) return Number(input) * DURATION_UNITS[bareUnit];
  if (!/^(\d+(ms|s|m|h|d|w))+$/.test(input)) {
    throw new Error(
      `${flag} must be a duration such as 30s, 90m, 12h, 30d, 2w or 1h30m${bareUnit ? ` (a bare number means ${unitName(bareUnit)})` : ""}, got ${JSON.stringify(text.slice(0, 40))}`,
    );
  }
  let ms = 0;
  for (const [, n, unit] of input.matchAll(PART)) ms += Number(n) * DURATION_UNITS[unit as DurationUnit];
  if (!Number.isSafeInteger(ms)) throw new Error(`${flag} is too long: ${JSON.stringify(text.slice(0, 40))}`);
  return ms;
}

/** `30s`, `1m30s`, `2d`: the shortest exact form of a duration, for messages. */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  let rest = ms;
  let out = "";
  for (const unit of ["d", "h", "m", "s", "ms"] as const) {
    const n = Math.floor(rest / DURATION_UNITS[unit]);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * DURATION_UNITS[unit];
    }
  }
  return out;
}

function unitName(unit: DurationUnit): string {
  return { ms: "milliseconds", s: "seconds", m: "minutes", h: "hours", d: "days", w: "weeks" }[unit] ?? unit;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * An instant as people type it (`--at`, `@TIME`): an RFC 3339 time with its offset
 * (`2026-12-01T10:00:00Z`, `2026-12-01T11:00:00+01:00`) or a duration ago (`3h`, `2d`, `1h30m`,
 * counted back from `now`). Throws an Error whose message names `flag` and the accepted forms.
 */
export function parseInstant(text: string, flag: string, now: Date = new Date()): Date {
  const input = text.trim();
  if (/^(\d+(ms|s|m|h|d|w))+$/.test(input)) return new Date(now.getTime() - parseDuration(input, flag));
  const at = RFC3339.test(input) ? new Date(input) : undefined;
  // Date rolls 2026-02-30 over into March; a day the month does not have is a typo.
  const [year, month, day] = input.slice(0, 10).split("-").map(Number) as [number, number, number];
  if (!at || Number.isNaN(at.getTime()) || day > new Date(Date.UTC(year, month, 0)).getUTCDate()) {
    throw new Error(
      `${flag} must be an RFC 3339 time such as 2026-12-01T10:00:00Z, or a duration ago such as 30m, 3h or 2d, got ${JSON.stringify(text.slice(0, 40))}`,
    );
  }
  return at;
}
