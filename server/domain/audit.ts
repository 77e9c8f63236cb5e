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
