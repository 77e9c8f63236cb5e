// The one error type of cli/oci: a message meant to be printed as is, on one line, saying what
// went wrong, for which registry and reference, and what to do. It never contains a password,
// a token or any other secret (the messages are built from names, codes and statuses only).

export type OciErrorReason =
  | "INVALID_REFERENCE"
  | "INVALID_OPTIONS"
  | "CREDENTIALS"
  | "UNAUTHORIZED"
  | "DENIED"
  | "MANIFEST_UNKNOWN"
  | "NAME_UNKNOWN"
  | "UNREACHABLE"
  | "TIMEOUT"
  | "TLS"
  | "WRONG_KIND"
  | "BAD_RESPONSE"
  | "REGISTRY_ERROR";

export class OciError extends Error {
  override readonly name = "OciError";
  constructor(
    readonly reason: OciErrorReason,
    message: string,
  ) {
    super(message.replace(/[\u0000-\u001f\u007f]+/g, " "));
  }
}
