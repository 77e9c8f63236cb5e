// Real servers for tests: a child process running the built server (dist/), exactly as
// `npm start` runs it, on a free port. Its JSON log lines are kept for assertions.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * The admin API token of the `default` organization in every test server (it is passed as
 * CHAINLOOP_BOOTSTRAP_TOKEN). The helpers in clients.ts send it unless told otherwise.
 */
export const TEST_ADMIN_TOKEN = "clp_testadmin0000000000000000000000000000";

export interface ServerProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** Every line the server wrote to stdout and stderr so far. */
  logs: string[];
  /** Sends the signal and waits for the process to exit; resolves with its exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** `node`: the Node binary to run the server with (default: the one running the tests). */
export async function startServer(env: Record<string, string>, opts: { timeoutMs?: number; node?: string } = {}): Promise<ServerProcess> {
  const child = spawn(opts.node ?? process.execPath, ["--enable-source-maps", path.join(ROOT, "dist/server/main.js")], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "info",
      CHAINLOOP_BOOTSTRAP_TOKEN: TEST_ADMIN_TOKEN,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server did not start within ${opts.timeoutMs ?? 30_000} ms:\n${logs.join("\n")}`)),
      opts.timeoutMs ?? 30_000,
    );
    const onLine = (line: string) => {
      logs.push(line);
      try {
        const entry = JSON.parse(line);
        if (entry.msg === "listening") {
          clearTimeout(timer);
          resolve(entry.port);
        }
      } catch {
        /* not JSON: stderr text */
      }
    };
    for (const stream of [child.stdout!, child.stderr!]) {
      let buf = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => {
        buf += chunk;
        let i;
        while ((i = buf.indexOf("\n")) >= 0) {
          onLine(buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
      });
    }
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with code ${code} before listening:\n${logs.join("\n")}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    logs,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
