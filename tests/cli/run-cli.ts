// Runs the real `chainloop` binary (cli/chainloop.js → dist/cli) as a child process, with an
// environment holding only PATH and what the test passes, and collects its output.
import { spawn } from "node:child_process";
import path from "node:path";
import { ROOT } from "../helpers/server.js";

export const CLI = path.join(ROOT, "cli/chainloop.js");

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

function runProcess(file: string, args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", ...env },
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
