// Organizations: the tenant boundary. On first start the server creates the `default`
// organization (and every organization gets the built-in logical environments).
import { BUILT_IN_LOGICAL_ENVIRONMENTS } from "./environments.js";
import { requireName } from "./validation.js";

export const DEFAULT_ORGANIZATION = "default";

export interface Organization {
  id: string;
  name: string;
  createdAt: Date;
}

export interface OrganizationRepository {
  /** Creates the organization with its built-in logical environments, or returns the existing one. Idempotent and race-safe. */
  ensure(name: string, builtInLogical: ReadonlyArray<{ name: string; description: string }>): Promise<Organization>;
  /** Creates a new organization with its built-in logical environments; AlreadyExists when the name is taken. */
  create(name: string, builtInLogical: ReadonlyArray<{ name: string; description: string }>): Promise<Organization>;
  list(): Promise<Organization[]>;
}

export class OrganizationUseCase {
  constructor(private readonly repo: OrganizationRepository) {}

  ensureDefault(): Promise<Organization> {
    return this.repo.ensure(DEFAULT_ORGANIZATION, BUILT_IN_LOGICAL_ENVIRONMENTS);
  }

  create(name: string): Promise<Organization> {
    return this.repo.create(requireName("organization name", name), BUILT_IN_LOGICAL_ENVIRONMENTS);
  }

  list(): Promise<Organization[]> {
    return this.repo.list();
  }
}
