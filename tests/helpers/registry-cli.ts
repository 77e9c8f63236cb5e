// Runs the real `chainloop` binary with text on its standard input (for --registry-password-stdin),
// an environment holding only PATH, HOME and what the test passes, and collects its output.
import { spawn } from "node:child_process";
import path from "node:path";
import { ROOT } from "./server.js";

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runChainloop(args: string[], env: Record<string, string>, input = ""): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, "cli/chainloop.js"), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.stdin.on("error", () => {}); // a CLI that exits without reading its input
    child.stdin.end(input);
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}
