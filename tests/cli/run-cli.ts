// Runs the real `chainloop` binary (cli/chainloop.js → dist/cli) as a child process, with an
// environment holding only PATH, an XDG_CONFIG_HOME where no config file exists (so the
// contexts of whoever runs the tests never apply), and what the test passes; collects its output.
import { randomBytes } from "node:crypto";
import { spawn } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { ROOT } from "../helpers/server.js";

export const CLI = path.join(ROOT, "cli/chainloop.js");

/** A directory that does not exist: no chainloop config file is found under it. */
const NO_CONFIG_HOME = path.join(os.tmpdir(), `chainloop-no-config-${randomBytes(6).toString("hex")}`);

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runProcess(process.execPath, [CLI, ...args], env);
}

/** Runs `script` with sh, a `chainloop` command on PATH: for command lines quoted as users type them. */
export function runShell(script: string, binDir: string, env: Record<string, string> = {}): Promise<CliResult> {
  return runProcess("/bin/sh", ["-c", script], { PATH: `${binDir}:${process.env.PATH ?? ""}`, ...env });
}

export function runProcess(file: string, args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", XDG_CONFIG_HOME: NO_CONFIG_HOME, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}
