// The one place that parses artifact digests (OCI content descriptors): `sha256:` + 64 or
// `sha512:` + 128 lowercase hex digits. The domain uses it for every digest it is given; the
// CLI too, to refuse a bad digest before any network call. No imports: loaded on every CLI start.

/** The algorithms an artifact digest may use, and how many hex digits each has. */
export const DIGEST_HEX_LENGTH = { sha256: 64, sha512: 128 } as const;
export type DigestAlgorithm = keyof typeof DIGEST_HEX_LENGTH;
export const DIGEST_ALGORITHMS = Object.keys(DIGEST_HEX_LENGTH) as DigestAlgorithm[];

export interface Digest {
  algorithm: DigestAlgorithm;
  hex: string;
  /** The canonical string, `<algorithm>:<hex>`. */
  value: string;
}

export class DigestError extends Error {}

/** Parses a digest; throws DigestError with a message that says what is wrong and what is expected. */
export function parseDigest(input: string): Digest {
  const expected = `expected ${DIGEST_ALGORITHMS.map((a) => `${a}:<${DIGEST_HEX_LENGTH[a]} lowercase hex digits>`).join(" or ")}`;
  if (input === "") throw new DigestError(`digest is required (${expected})`);
  const shown = input.length > 80 ? `${JSON.stringify(input.slice(0, 80))}…` : JSON.stringify(input);
  const colon = input.indexOf(":");
  if (colon < 0) throw new DigestError(`digest ${shown} has no algorithm prefix; ${expected}`);
  const algorithm = input.slice(0, colon);
  const hex = input.slice(colon + 1);
  if (!isDigestAlgorithm(algorithm)) {
    throw new DigestError(`digest ${shown} uses unsupported algorithm "${algorithm.slice(0, 20)}"; ${expected}`);
  }
  if (/^[0-9A-F]+$/i.test(hex) && hex !== hex.toLowerCase()) {
    throw new DigestError(`digest ${shown} must use lowercase hex digits`);
  }
  if (!/^[0-9a-f]*$/.test(hex)) throw new DigestError(`digest ${shown} contains characters that are not hex digits; ${expected}`);
  if (hex.length !== DIGEST_HEX_LENGTH[algorithm]) {
    throw new DigestError(
      `digest ${shown} has ${hex.length} hex digits; ${algorithm} needs ${DIGEST_HEX_LENGTH[algorithm]}`,
    );
  }
  return { algorithm, hex, value: `${algorithm}:${hex}` };
}

export function isDigestAlgorithm(name: string): name is DigestAlgorithm {
  return Object.hasOwn(DIGEST_HEX_LENGTH, name);
}

/** `sha256:0123456789ab` — for tables. */
export function shortDigest(digest: string, hexChars = 12): string {
  const colon = digest.indexOf(":");
  return colon < 0 ? digest.slice(0, hexChars) : digest.slice(0, colon + 1 + hexChars);
}
