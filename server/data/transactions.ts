// Transactional<R> (server/domain/audit.ts) on Prisma: an interactive transaction, with the
// repositories built over its client.
import type { Audited, Transactional } from "../domain/audit.js";
import type { Prisma } from "../../gen/prisma/client.js";
import { PrismaAuditRepository } from "./audit.js";
import type { PrismaClient } from "./client.js";

/** Interactive transactions queue for a connection (PGlite has exactly one): allow for it. */
export const TX_OPTIONS = { maxWait: 30_000, timeout: 30_000 } as const;

export function transactional<R>(prisma: PrismaClient, bind: (tx: Prisma.TransactionClient) => R): Transactional<R> {
  return (fn) => prisma.$transaction((tx) => fn(bind(tx)), TX_OPTIONS);
}

/** A repository and the audit trail over one transaction (server/domain/audit.ts: Audited). */
export function audited<R>(prisma: PrismaClient, bind: (tx: Prisma.TransactionClient) => R): Audited<R> {
  return transactional(prisma, (tx) => ({ repo: bind(tx), audit: new PrismaAuditRepository(tx) }));
}
