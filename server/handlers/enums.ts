// Proto enum → domain name, for every handler: UNSPECIFIED (0) means "not given"; a number no
// name maps to (say, from a newer client) is InvalidArgument with `unknown`'s message. The
// mappings themselves are in server/shared/proto.ts.
import { InvalidArgument } from "../domain/errors.js";
import type { ProtoEnum } from "../shared/proto.js";

export function enumFromPb<N extends string>(mapping: ProtoEnum<N, number>, value: number, unknown: string): N | undefined {
  if (value === 0) return undefined;
  const found = mapping.nameOf(value);
  if (found === undefined) throw new InvalidArgument(unknown);
  return found;
}
