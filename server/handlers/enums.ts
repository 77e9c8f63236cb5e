// Proto enum → domain value, for every handler: UNSPECIFIED (0) means "not given"; a number no
// table knows (say, from a newer client) is InvalidArgument with `unknown`'s message.
import { InvalidArgument } from "../domain/errors.js";

export function enumFromPb<D extends string>(table: Record<D, number>, value: number, unknown: string): D | undefined {
  if (value === 0) return undefined;
  const found = (Object.keys(table) as D[]).find((d) => table[d] === value);
  if (found === undefined) throw new InvalidArgument(unknown);
  return found;
}
