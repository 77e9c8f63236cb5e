// The one place that parses artifact digests (OCI content descriptors): `sha256:` + 64 or
// `sha512:` + 128 lowercase hex digits. The CLI uses it too, to refuse a bad digest before
// any network call.

export type DigestAlgorithm = "sha256" | "sha512";

export interface Digest {
  algorithm: DigestAlgorithm;
  hex: string;
  /** The canonical string, `<algorithm>:<hex>`. */
  value: string;
}

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };

export class DigestError extends Error {}

/** Parses a digest; throws DigestError with a message that says what is wrong and what is expected. */
export function parseDigest(input: string): Digest {
  const expected = "expected sha256:<64 lowercase hex digits> or sha512:<128 lowercase hex digits>";
  if (input === "") throw new DigestError(`digest is required (${expected})`);
  const shown = input.length > 80 ? `${JSON.stringify(input.slice(0, 80))}…` : JSON.stringify(input);
  const colon = input.indexOf(":");
  if (colon < 0) throw new DigestError(`digest ${shown} has no algorithm prefix; ${expected}`);
  const algorithm = input.slice(0, colon);
  const hex = input.slice(colon + 1);
  if (algorithm !== "sha256" && algorithm !== "sha512") {
    throw new DigestError(`digest ${shown} uses unsupported algorithm "${algorithm.slice(0, 20)}"; ${expected}`);
  }
  if (/^[0-9A-F]+$/i.test(hex) && hex !== hex.toLowerCase()) {
    throw new DigestError(`digest ${shown} must use lowercase hex digits`);
  }
  if (!/^[0-9a-f]*$/.test(hex)) throw new DigestError(`digest ${shown} contains characters that are not hex digits; ${expected}`);
  if (hex.length !== HEX_LENGTH[algorithm]) {
    throw new DigestError(
      `digest ${shown} has ${hex.length} hex digits; ${algorithm} needs ${HEX_LENGTH[algorithm]}`,
    );
  }
  return { algorithm, hex, value: `${algorithm}:${hex}` };
}

/** `sha256:0123456789ab` — for tables. */
export function shortDigest(digest: string, hexChars = 12): string {
  const colon = digest.indexOf(":");
  return colon < 0 ? digest.slice(0, hexChars) : digest.slice(0, colon + 1 + hexChars);
}
