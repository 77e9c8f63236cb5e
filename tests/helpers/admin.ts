// The operator command (dist/server/admin-cli.js) against a test database.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { ROOT } from "./server.js";

const run = promisify(execFile);

/** `npm run admin -- org create NAME`; returns the new organization's admin token. */
export async function createOrganization(env: Record<string, string>, name: string): Promise<string> {
  const { stdout } = await run(process.execPath, [path.join(ROOT, "dist/server/admin-cli.js"), "org", "create", name], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", ...env },
  });
  const token = stdout.trim().split("\n").pop() ?? "";
  if (!token.startsWith("clp_")) throw new Error(`admin org create printed no token:\n${stdout}`);
  return token;
}
