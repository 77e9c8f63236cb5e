// The audit trail commits with the change it records: when the audit entry cannot be written,
// the change is rolled back (and the caller gets the error), on both backends. The fault is
// real: a trigger in the test database that makes every insert into audit_events fail.
import { generateKeyPairSync } from "node:crypto";
import { pino } from "pino";
import { openDatabase, type Database } from "../../server/data/client.js";
import { migrate } from "../../server/data/migrate.js";
import type { Caller } from "../../server/domain/caller.js";
import { NotFound, Unauthenticated } from "../../server/domain/errors.js";
import { createUseCases, type UseCases } from "../../server/wiring.js";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/backends.js";

const logger = pino({ level: "silent" });
const ADMIN_SECRET = "clp_audittest0000000000000000000000000000001";
const PUBLIC_KEY = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "pem" }).toString();

describe.each(backends())("audit trail in the change's transaction (%s)", (backend) => {
  let tdb: TestDatabase;
  let db: Database;
  let uc: UseCases;
  let orgId: string;
  let admin: Caller;

  const sql = <T = Record<string, unknown>>(text: string) => db.withConnection((c) => c.query<T>(text));
  const auditCount = async () => Number((await sql<{ n: string }>("SELECT count(*)::text AS n FROM audit_events"))[0].n);
  const breakAudit = () =>
    db.withConnection((c) =>
      c.exec(`
        CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit_events is read-only in this test'; END $$;
        CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_audit();`),
    );
  const repairAudit = () => db.withConnection((c) => c.exec("DROP TRIGGER refuse_audit ON audit_events; DROP FUNCTION refuse_audit();"));

  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    db = await openDatabase({ databaseUrl: tdb.databaseUrl, dataDir: tdb.dataDir, logger });
    await migrate(db, logger);
    uc = createUseCases(db);
    orgId = (await uc.organizations.ensureDefault()).id;
    await uc.tokens.bootstrap(orgId, ADMIN_SECRET);
    admin = await uc.tokens.authenticate(`Bearer ${ADMIN_SECRET}`);
  });
  afterAll(async () => {
    await db?.close();
    await tdb?.drop();
  });

  it("writes one entry per change, with the actor", async () => {
    const before = await auditCount();
    await uc.environments.create(orgId, { name: "audited-env", description: "" }, admin);
    const rows = await sql<{ action: string; resource_name: string; actor_name: string }>(
      "SELECT action, resource_name, actor_name FROM audit_events ORDER BY seq DESC LIMIT 1",
    );
    expect(await auditCount()).toBe(before + 1);
    expect(rows[0]).toEqual({ action: "environment.create", resource_name: "audited-env", actor_name: admin.tokenName });
  });

  it("rolls the change back when its audit entry cannot be written", async () => {
    const { token: kept } = await uc.tokens.create(admin, { name: "kept", description: "", scope: "read", expiresAt: undefined });
    await uc.environments.create(orgId, { name: "kept-env", description: "" }, admin);
    await uc.environments.createLogical(orgId, { name: "kept-stage", description: "" }, admin);
    const entries = await auditCount();

    await breakAudit();
    try {
      const refused = /audit_events is read-only/;
      await expect(uc.environments.create(orgId, { name: "lost-env", description: "" }, admin)).rejects.toThrow(refused);
      await expect(uc.environments.update(orgId, { name: "kept-env", description: "changed" }, ["description"], admin)).rejects.toThrow(refused);
      await expect(uc.environments.delete(orgId, "kept-env", admin)).rejects.toThrow(refused);
      await expect(uc.environments.createLogical(orgId, { name: "lost-stage", description: "" }, admin)).rejects.toThrow(refused);
      await expect(uc.environments.deleteLogical(orgId, "kept-stage", admin)).rejects.toThrow(refused);
      await expect(uc.tokens.create(admin, { name: "lost-token", description: "", scope: "read", expiresAt: undefined })).rejects.toThrow(refused);
      await expect(uc.tokens.revoke(admin, kept.id)).rejects.toThrow(refused);
      await expect(uc.keys.create(orgId, { publicKeyPem: PUBLIC_KEY, name: "lost-key" }, admin)).rejects.toThrow(refused);
      // A refusal decided inside the transaction is still the caller's answer.
      await expect(uc.environments.delete(orgId, "no-such-env", admin)).rejects.toThrow(NotFound);
    } finally {
      await repairAudit();
    }

    // Nothing of it happened.
    expect(await auditCount()).toBe(entries);
    await expect(uc.environments.get(orgId, "lost-env")).rejects.toThrow(NotFound);
    expect((await uc.environments.get(orgId, "kept-env")).description).toBe("");
    expect((await uc.environments.listLogical(orgId)).map((l) => l.name)).toEqual(expect.arrayContaining(["kept-stage"]));
    expect((await uc.environments.listLogical(orgId)).map((l) => l.name)).not.toContain("lost-stage");
    const tokens = await uc.tokens.list(orgId, { pageSize: 100, pageToken: "", showRevoked: true });
    expect(tokens.items.map((t) => t.name)).not.toContain("lost-token");
    expect(tokens.items.find((t) => t.id === kept.id)?.revokedAt).toBeUndefined();
    expect((await uc.keys.list(orgId)).map((k) => k.name)).not.toContain("lost-key");

    // With the audit trail writable again, the same changes go through, each with its entry.
    await uc.environments.delete(orgId, "kept-env", admin);
    await uc.tokens.revoke(admin, kept.id);
    expect(await auditCount()).toBe(entries + 2);
    await expect(uc.environments.get(orgId, "kept-env")).rejects.toThrow(NotFound);
  });

  it("a revocation whose audit entry failed leaves the token working", async () => {
    const { token, secret } = await uc.tokens.create(admin, { name: "still-valid", description: "", scope: "read", expiresAt: undefined });
    await breakAudit();
    try {
      await expect(uc.tokens.revoke(admin, token.id)).rejects.toThrow(/audit_events is read-only/);
    } finally {
      await repairAudit();
    }
    await expect(uc.tokens.authenticate(`Bearer ${secret}`)).resolves.toMatchObject({ tokenId: token.id });
    await uc.tokens.revoke(admin, token.id);
    await expect(uc.tokens.authenticate(`Bearer ${secret}`)).rejects.toThrow(Unauthenticated);
  });
});
