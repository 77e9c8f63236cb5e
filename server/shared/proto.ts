// The API's side of the shared names and durations, for the handlers and the CLI: each list of
// server/shared/names.ts as its proto enum, and milliseconds as google.protobuf.Duration.
//
// A name's enum value is the same word in upper snake case (`rolled-back` ⇄ ROLLED_BACK), so the
// mapping is derived, not written out: the compiler refuses a name the enum does not have.
// Imports generated code: the domain never imports this module, and the CLI loads it only from
// inside actions (await import()).
import { create } from "@bufbuild/protobuf";
import { durationFromMs as wktDurationFromMs, DurationSchema, timestampFromDate, type Duration, type Timestamp } from "@bufbuild/protobuf/wkt";
import { ApiTokenScope } from "../../gen/proto/chainloop/v1/api_token_pb.js";
import { MetricsBucket } from "../../gen/proto/chainloop/v1/delivery_metrics_pb.js";
import { ArtifactKind, DeploymentStatus, RecordOutcome, WatchEventType } from "../../gen/proto/chainloop/v1/deployment_pb.js";
import { WebhookDeliveryStatus, WebhookEventType } from "../../gen/proto/chainloop/v1/webhook_pb.js";
import {
  ARTIFACT_KINDS,
  DEPLOYMENT_STATUSES,
  METRICS_BUCKETS,
  RECORD_OUTCOMES,
  TOKEN_SCOPES,
  WATCH_EVENT_TYPES,
  WEBHOOK_DELIVERY_STATUSES,
  WEBHOOK_EVENT_TYPES,
} from "./names.js";

/** `rolled-back` → `ROLLED_BACK`: the enum value a name stands for (without the enum's prefix). */
export type PbKey<N extends string> = N extends `${infer A}-${infer B}` ? `${Uppercase<A>}_${PbKey<B>}` : Uppercase<N>;

/** A list of names and the proto enum that carries them. */
export interface ProtoEnum<N extends string, P extends number> {
  readonly names: readonly N[];
  readonly toPb: Readonly<Record<N, P>>;
  /** The enum's value names, `CONTAINER_IMAGE, HELM_CHART`: what a message lists as valid. */
  readonly pbNames: string;
  /** The name of an enum value; undefined for UNSPECIFIED (0) and for a value no name maps to (a newer peer's). */
  nameOf(value: number): N | undefined;
}

/** The mapping between `names` and the proto enum `pb`, each name to its upper-snake-case value. */
export function protoEnum<N extends string, P extends number>(names: readonly N[], pb: { readonly [K in PbKey<N>]: P }): ProtoEnum<N, P> {
  const key = (name: N) => name.toUpperCase().replace(/-/g, "_") as PbKey<N>;
  const toPb = Object.fromEntries(names.map((n) => [n, pb[key(n)]])) as Record<N, P>;
  const byValue = new Map<number, N>(names.map((n) => [toPb[n], n]));
  return { names, toPb, pbNames: names.map(key).join(", "), nameOf: (value) => (value === 0 ? undefined : byValue.get(value)) };
}

export const ARTIFACT_KIND_PB = protoEnum(ARTIFACT_KINDS, ArtifactKind);
export const DEPLOYMENT_STATUS_PB = protoEnum(DEPLOYMENT_STATUSES, DeploymentStatus);
export const RECORD_OUTCOME_PB = protoEnum(RECORD_OUTCOMES, RecordOutcome);
export const WATCH_EVENT_TYPE_PB = protoEnum(WATCH_EVENT_TYPES, WatchEventType);
export const WEBHOOK_EVENT_TYPE_PB = protoEnum(WEBHOOK_EVENT_TYPES, WebhookEventType);
export const WEBHOOK_DELIVERY_STATUS_PB = protoEnum(WEBHOOK_DELIVERY_STATUSES, WebhookDeliveryStatus);
export const TOKEN_SCOPE_PB = protoEnum(TOKEN_SCOPES, ApiTokenScope);
export const METRICS_BUCKET_PB = protoEnum(METRICS_BUCKETS, MetricsBucket);

/**
 * Milliseconds, fractions kept to the nanosecond; unset → undefined. Not @bufbuild/protobuf/wkt's
 * durationMs: it rounds to whole milliseconds, which would hide the fractions the domain refuses
 * (heartbeat intervals and soak times are whole milliseconds).
 */
export function durationToMs(d: Duration | undefined): number | undefined {
  return d === undefined ? undefined : Number(d.seconds) * 1000 + d.nanos / 1e6;
}

/**
 * Milliseconds (fractions rounded to the nanosecond) as a Duration: wkt's durationFromMs, with
 * its `nanos` rounded. Unrounded, a fraction of a millisecond (delivery metrics' microseconds:
 * 123.456 ms) gives a non-integer `nanos` (456000.00000000307) that cannot be serialized.
 */
export function durationFromMs(ms: number): Duration;
export function durationFromMs(ms: number | undefined): Duration | undefined;
export function durationFromMs(ms: number | undefined): Duration | undefined {
  if (ms === undefined) return undefined;
  const d = wktDurationFromMs(ms);
  const nanos = Math.round(d.nanos);
  // Rounding can make a whole second (999999999.6 → 1e9): carry it. `|| 0`: a signed zero does not serialize.
  const carry = Math.abs(nanos) >= 1e9 ? Math.sign(nanos) : 0;
  return create(DurationSchema, { seconds: d.seconds + BigInt(carry), nanos: nanos - carry * 1e9 || 0 });
}

/** A Timestamp, or undefined for an unset time (an optional field). */
export function timestampOrUndefined(d: Date | undefined): Timestamp | undefined {
  return d ? timestampFromDate(d) : undefined;
}
