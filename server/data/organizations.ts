import { AlreadyExists } from "../domain/errors.js";
import type { Organization, OrganizationRepository } from "../domain/organizations.js";
import type { PrismaClient } from "./client.js";
import { isUniqueViolation } from "./errors.js";

export class PrismaOrganizationRepository implements OrganizationRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async ensure(
    name: string,
    builtInLogical: ReadonlyArray<{ name: string; description: string }>,
  ): Promise<Organization> {
    // Two servers starting together may both try to create it: the loser reads the winner's.
    let org;
    try {
      org = await this.prisma.organization.upsert({ where: { name }, create: { name }, update: {} });
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      org = await this.prisma.organization.findUniqueOrThrow({ where: { name } });
    }
    await this.prisma.logicalEnvironment.createMany({
      data: builtInLogical.map((l) => ({ organizationId: org.id, name: l.name, description: l.description, builtIn: true })),
      skipDuplicates: true,
    });
    return { id: org.id, name: org.name, createdAt: org.createdAt };
  }

  async create(
    name: string,
    builtInLogical: ReadonlyArray<{ name: string; description: string }>,
  ): Promise<Organization> {
    try {
      const org = await this.prisma.$transaction(async (tx) => {
        const created = await tx.organization.create({ data: { name } });
        await tx.logicalEnvironment.createMany({
          data: builtInLogical.map((l) => ({ organizationId: created.id, name: l.name, description: l.description, builtIn: true })),
        });
        return created;
      });
      return { id: org.id, name: org.name, createdAt: org.createdAt };
    } catch (e) {
      if (isUniqueViolation(e)) throw new AlreadyExists(`organization "${name}" already exists`, { cause: e });
      throw e;
    }
  }

  async list(): Promise<Organization[]> {
    const rows = await this.prisma.organization.findMany({ orderBy: { name: "asc" } });
    return rows.map((o) => ({ id: o.id, name: o.name, createdAt: o.createdAt }));
  }
}
