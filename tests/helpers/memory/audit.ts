// In-memory stand-ins for the audit trail and for audited() (server/data/transactions.ts): a
// change and its audit entry land together or not at all, as in the database, by restoring the
// repository's state when the change throws.
import type { Actor } from "../../../server/domain/caller.js";
import type { Audited, AuditEntry, AuditRepository } from "../../../server/domain/audit.js";

/** A repository whose whole state can be saved and put back (a stand-in for a transaction's rollback). */
export interface Restorable {
  save(): () => void;
}

export class MemoryAudit implements AuditRepository {
  readonly entries: Array<AuditEntry & { orgId: string; actor: Actor | undefined }> = [];
  async append(orgId: string, actor: Actor | undefined, entry: AuditEntry): Promise<void> {
    this.entries.push({ orgId, actor, ...entry });
  }
}

/** audited() over one in-memory repository: `fn` runs alone (one at a time), and a throw undoes its changes and its audit entries. */
export function memoryAudited<R extends Restorable>(repo: R, audit: MemoryAudit): Audited<R> {
  let queue: Promise<unknown> = Promise.resolve();
  return <T>(fn: (repos: { repo: R; audit: AuditRepository }) => Promise<T>): Promise<T> => {
    const run = queue.then(async () => {
      const restore = repo.save();
      const logged = audit.entries.length;
      try {
        return await fn({ repo, audit });
      } catch (e) {
        restore();
        audit.entries.length = logged;
        throw e;
      }
    });
    queue = run.catch(() => undefined);
    return run;
  };
}
