// Recognizing database errors, whichever driver (pg, PGlite) and layer (Prisma, raw) raised them.

function codeOf(e: unknown): string | undefined {
  const err = e as { code?: unknown; cause?: unknown } | null;
  if (!err || typeof err !== "object") return undefined;
  if (typeof err.code === "string") return err.code;
  return undefined;
}

/** Prisma's P2002 or Postgres' 23505: a unique constraint or index rejected the write. */
export function isUniqueViolation(e: unknown): boolean {
  const code = codeOf(e);
  return code === "P2002" || code === "23505";
}

/** Prisma's P2003 or Postgres' 23503: a foreign key rejected the write or delete. */
export function isForeignKeyViolation(e: unknown): boolean {
  const code = codeOf(e);
  return code === "P2003" || code === "23503";
}
