// Prisma CLI configuration (Prisma 7). The server does not read this file: it builds its
// own client with a driver adapter (server/data/client.ts) and applies migrations with
// its own runner (server/data/migrate.ts), because Prisma's schema engine cannot be
// downloaded on every machine. `prisma migrate deploy/status` agree with our runner
// wherever the engine is available.
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres" },
});
