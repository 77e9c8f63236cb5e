// The audit trail of configuration changes (environments, logical environments, keys,
// tokens). Deployment records and attestations carry their actor in their own rows.
import type { Actor } from "./caller.js";

export interface AuditEntry {
  action: string;
  resourceType: string;
  resourceName: string;
}

export interface AuditRepository {
  append(orgId: string, actor: Actor | undefined, entry: AuditEntry): Promise<void>;
}

/**
 * Runs `fn` with repositories bound to one database transaction: a change and its audit entry
 * commit together or not at all (a failure or a crash between them loses neither alone). An
 * error thrown by `fn` rolls everything back and is rethrown.
 */
export type Transactional<R> = <T>(fn: (repos: R) => Promise<T>) => Promise<T>;

/** The repositories a configuration change writes through: its own and the audit trail. */
export type Audited<R> = Transactional<{ repo: R; audit: AuditRepository }>;
