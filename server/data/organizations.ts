import type { Organization, OrganizationRepository } from "../domain/organizations.js";
import type { PrismaClient } from "./client.js";

export class PrismaOrganizationRepository implements OrganizationRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async ensure(
    name: string,
    builtInLogical: ReadonlyArray<{ name: string; description: string }>,
  ): Promise<Organization> {
    // Upserts with ON CONFLICT semantics: two servers starting together both succeed.
    const org = await this.prisma.organization.upsert({ where: { name }, create: { name }, update: {} });
    await this.prisma.logicalEnvironment.createMany({
      data: builtInLogical.map((l) => ({ organizationId: org.id, name: l.name, description: l.description, builtIn: true })),
      skipDuplicates: true,
    });
    return { id: org.id, name: org.name, createdAt: org.createdAt };
  }
}
