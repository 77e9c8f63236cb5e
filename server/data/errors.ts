// Recognizing database errors, whichever driver (pg, PGlite) and layer (Prisma, raw) raised them.

/** The Postgres SQLSTATE behind an error, digging through Prisma's driver-adapter wrapping. */
export function sqlStateOf(e: unknown): string | undefined {
  const err = e as {
    code?: unknown;
    cause?: { originalCode?: unknown; code?: unknown };
    meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } };
  } | null;
  if (!err || typeof err !== "object") return undefined;
  const candidates = [err.meta?.driverAdapterError?.cause?.originalCode, err.cause?.originalCode, err.code];
  return candidates.find((c): c is string => typeof c === "string" && /^[0-9A-Z]{5}$/.test(c) && !c.startsWith("P"));
}

function prismaCodeOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("P") ? code : undefined;
}

/** A unique constraint or index rejected the write. */
export function isUniqueViolation(e: unknown): boolean {
  return sqlStateOf(e) === "23505" || prismaCodeOf(e) === "P2002";
}

/** A foreign key rejected the write or delete (23001 is RESTRICT on Postgres 17, PGlite's version). */
export function isForeignKeyViolation(e: unknown): boolean {
  const state = sqlStateOf(e);
  return state === "23503" || state === "23001" || prismaCodeOf(e) === "P2003";
}

/** A transaction lost a race and can be retried: unique violation, deadlock, serialization failure. */
export function isRetryableConflict(e: unknown): boolean {
  const state = sqlStateOf(e);
  return isUniqueViolation(e) || state === "40P01" || state === "40001";
}
