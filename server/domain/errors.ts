// Typed domain errors. Use cases throw these; server/interceptors/errors.ts is the one place
// that turns them into Connect/gRPC status codes. Messages are shown to users verbatim: say
// what was wrong and what to do, and never include secrets.

export type DomainErrorKind =
  | "InvalidArgument"
  | "NotFound"
  | "AlreadyExists"
  | "FailedPrecondition"
  | "PermissionDenied"
  | "Unauthenticated"
  | "Unavailable"
  | "ResourceExhausted";

export abstract class DomainError extends Error {
  abstract readonly kind: DomainErrorKind;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class InvalidArgument extends DomainError {
  readonly kind = "InvalidArgument" as const;
}
export class NotFound extends DomainError {
  readonly kind = "NotFound" as const;
}
export class AlreadyExists extends DomainError {
  readonly kind = "AlreadyExists" as const;
}
export class FailedPrecondition extends DomainError {
  readonly kind = "FailedPrecondition" as const;
}
export class PermissionDenied extends DomainError {
  readonly kind = "PermissionDenied" as const;
}
export class Unauthenticated extends DomainError {
  readonly kind = "Unauthenticated" as const;
}
/** The database (or another dependency) cannot be reached right now; the call may be retried. */
export class Unavailable extends DomainError {
  readonly kind = "Unavailable" as const;
}
/** A per-caller resource ran out (a watcher that stopped reading filled its queue); start over. */
export class ResourceExhausted extends DomainError {
  readonly kind = "ResourceExhausted" as const;
}
