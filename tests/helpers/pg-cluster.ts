// A throwaway Postgres cluster of a test's own, to stop and start under a running server:
// `initdb` into a temporary directory with Debian's binaries (/usr/lib/postgresql/<v>/bin),
// trust auth, listening on a spare loopback port only, driven with `pg_ctl`. Postgres refuses
// to run as root, so when the tests run as root the cluster belongs to the `postgres` user and
// every command runs through `runuser -u postgres --`.
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export interface PgCluster {
  port: number;
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  dir: string;
  running: boolean;
  start(): Promise<void>;
  /** `pg_ctl stop -m <mode>`: immediate is a crash (no checkpoint; recovery on the next start). */
  stop(mode?: "immediate" | "fast"): Promise<void>;
  /**
   * SIGSTOPs the postmaster and every backend: the database neither answers nor closes its
   * connections (a hung host or a network partition), until thaw().
   */
  freeze(): number[];
  thaw(): void;
  /** Stops it if running and removes its directory. */
  destroy(): Promise<void>;
  log(): string;
}

export function postgresBinDir(): string {
  const root = "/usr/lib/postgresql";
  const versions = fs.existsSync(root)
    ? fs
        .readdirSync(root)
        .filter((v) => fs.existsSync(path.join(root, v, "bin", "pg_ctl")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) throw new Error(`no Postgres binaries under ${root}/*/bin (apt-get install postgresql)`);
  return path.join(root, versions[0], "bin");
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const asRoot = process.getuid?.() === 0;

/** Runs a Postgres binary (as `postgres` when we are root); resolves on exit, not on stdio close (pg_ctl leaves the postmaster running). */
function run(bin: string, args: string[], timeoutMs = 60_000): Promise<string> {
  const [cmd, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", bin, ...args]] : [bin, args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ["ignore", "pipe", "pipe"], cwd: os.tmpdir() });
    let out = "";
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (out += c));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${path.basename(bin)} ${args.join(" ")} took over ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${path.basename(bin)} ${args.join(" ")} exited with ${code}:\n${out}`));
    });
  });
}

export async function createCluster(): Promise<PgCluster> {
  const bin = postgresBinDir();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "chainloop-pgcluster-"));
  const data = path.join(dir, "data");
  const logFile = path.join(dir, "postgres.log");
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
    fs.chownSync(dir, uid, gid);
  }
  await run(path.join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"]);
  const port = await freePort();
  const options = [
    `-p ${port}`,
    "-c listen_addresses=127.0.0.1",
    `-c unix_socket_directories=${dir}`,
    "-c max_connections=50",
    "-c shared_buffers=32MB",
    "-c fsync=on",
  ].join(" ");
  let frozen: number[] = [];
  const cluster: PgCluster = {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    dir,
    running: false,
    async start() {
      await run(path.join(bin, "pg_ctl"), ["-D", data, "-l", logFile, "-o", options, "-w", "-t", "60", "start"]);
      cluster.running = true;
    },
    async stop(mode = "immediate") {
      await run(path.join(bin, "pg_ctl"), ["-D", data, "-m", mode, "-w", "-t", "60", "stop"]);
      cluster.running = false;
    },
    freeze() {
      // The postmaster first, then the children it has: listed before it stops, a backend it
      // forks meanwhile (the server's pool reconnecting) would be missed and keep serving
      // (CI saw 1,889 of 1,897 calls succeed "frozen").
      const postmaster = postmasterPid(data);
      process.kill(postmaster, "SIGSTOP");
      const children = childPids(postmaster);
      for (const pid of children) process.kill(pid, "SIGSTOP");
      frozen = [postmaster, ...children];
      return frozen;
    },
    thaw() {
      for (const pid of [...frozen].reverse()) {
        try {
          process.kill(pid, "SIGCONT");
        } catch {
          /* gone */
        }
      }
      frozen = [];
    },
    async destroy() {
      cluster.thaw();
      if (fs.existsSync(path.join(data, "postmaster.pid"))) {
        await cluster.stop("immediate").catch(() => undefined);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
    log() {
      try {
        return fs.readFileSync(logFile, "utf8");
      } catch {
        return "";
      }
    },
  };
  await cluster.start();
  return cluster;
}

/** The postmaster (first line of postmaster.pid) first, then its children. */
function postmasterPid(data: string): number {
  return Number(fs.readFileSync(path.join(data, "postmaster.pid"), "utf8").split("\n")[0]);
}

function childPids(parent: number): number[] {
  const children: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === parent) children.push(Number(entry));
    } catch {
      /* exited meanwhile */
    }
  }
  return children;
}
