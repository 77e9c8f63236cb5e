// Organizations: the tenant boundary. On first start the server creates the `default`
// organization (and every organization gets the built-in logical environments).
import { BUILT_IN_LOGICAL_ENVIRONMENTS } from "./environments.js";

export const DEFAULT_ORGANIZATION = "default";

export interface Organization {
  id: string;
  name: string;
  createdAt: Date;
}

export interface OrganizationRepository {
  /** Creates the organization with its built-in logical environments, or returns the existing one. Idempotent and race-safe. */
  ensure(name: string, builtInLogical: ReadonlyArray<{ name: string; description: string }>): Promise<Organization>;
}

export class OrganizationUseCase {
  constructor(private readonly repo: OrganizationRepository) {}

  ensureDefault(): Promise<Organization> {
    return this.repo.ensure(DEFAULT_ORGANIZATION, BUILT_IN_LOGICAL_ENVIRONMENTS);
  }
}
