// google.protobuf.Duration ⇄ milliseconds for every handler, in one place. Not
// @bufbuild/protobuf/wkt's durationFromMs / durationMs: the first does not round, so a fraction
// of a millisecond (delivery metrics' microseconds: 123.456 ms) gives a non-integer `nanos`
// (456000.00000000307) that cannot be serialized; the second rounds to whole milliseconds, which
// would hide the fractions the domain refuses (heartbeat intervals are whole milliseconds).

import { create } from "@bufbuild/protobuf";
import { DurationSchema, type Duration } from "@bufbuild/protobuf/wkt";

/** Milliseconds (fractions kept, to the nanosecond); unset → undefined. */
export function durationToMs(d: Duration | undefined): number | undefined {
  return d === undefined ? undefined : Number(d.seconds) * 1000 + d.nanos / 1e6;
}

/** Milliseconds (fractions rounded to the nanosecond) as a Duration. */
export function durationFromMs(ms: number): Duration;
export function durationFromMs(ms: number | undefined): Duration | undefined;
export function durationFromMs(ms: number | undefined): Duration | undefined {
  if (ms === undefined) return undefined;
  let seconds = Math.floor(ms / 1000);
  let nanos = Math.round((ms - seconds * 1000) * 1e6);
  if (nanos >= 1e9) {
    seconds += 1;
    nanos -= 1e9;
  }
  return create(DurationSchema, { seconds: BigInt(seconds), nanos });
}
