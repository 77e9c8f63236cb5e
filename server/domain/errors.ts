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
/** One unmet precondition (google.rpc.PreconditionFailure.Violation on the wire). */
export interface PreconditionViolation {
  /** What kind of precondition, e.g. a promotion rule (`require_deployed_in`). */
  type: string;
  /** What it is about, relative to the type. */
  subject: string;
  /** Why it failed and what would meet it. */
  description: string;
}

export class FailedPrecondition extends DomainError {
  readonly kind = "FailedPrecondition" as const;
  /** Each unmet precondition, when the caller can act on them one by one. */
  readonly violations: PreconditionViolation[];
  constructor(message: string, options?: { cause?: unknown; violations?: PreconditionViolation[] }) {
    super(message, options);
    this.violations = options?.violations ?? [];
  }
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
