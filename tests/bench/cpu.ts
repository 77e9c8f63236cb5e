// CPU accounting for the benchmark, from /proc (Linux). Times are CPU milliseconds summed over
// all cores. The machine's few cores are shared by the server, Postgres and the load generator,
// so CPU per record says more than throughput alone, and tells who spent it.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";

const CLK_TCK = (() => {
  const n = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout?.trim());
  return n > 0 ? n : 100;
})();

/** utime + stime (+ cutime + cstime: its reaped children, with `reapedChildren`), in ms; NaN if it is gone. */
export function procCpuMs(pid: number | "self", reapedChildren = false): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // f[0] is field 3 (state)
    const ticks = Number(f[11]) + Number(f[12]) + (reapedChildren ? Number(f[13]) + Number(f[14]) : 0);
    return (ticks * 1000) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** What this process's reaped children (wrk, pgbench, the CLI) used, in ms. */
function childrenCpuMs(): number {
  return procCpuMs("self", true) - procCpuMs("self");
}

/** Busy time of the whole machine: the "cpu" line of /proc/stat, total minus idle and iowait. */
function machineBusyMs(): number {
  const v = fs.readFileSync("/proc/stat", "utf8").split("\n", 1)[0].trim().split(/\s+/).slice(1, 9).map(Number); // user..steal
  const total = v.reduce((a, b) => a + b, 0);
  return ((total - v[3] - v[4]) * 1000) / CLK_TCK;
}

/**
 * CPU of every Postgres process: the backends (of the bench database and any other), the WAL
 * writer, checkpointer, autovacuum (their titles read "postgres: …") and the postmaster, whose
 * figure includes its ended children, so a backend that exits within a window still counts.
 */
function postgresMs(): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8");
    } catch {
      continue;
    }
    const postmaster = /(^|\/)postgres$/.test(cmdline.split("\0", 1)[0]);
    if (postmaster || cmdline.startsWith("postgres: ")) {
      const ms = procCpuMs(Number(entry), postmaster);
      if (Number.isFinite(ms)) out.set(Number(entry), ms);
    }
  }
  return out;
}

export interface CpuSnapshot {
  at: number;
  machineMs: number;
  /** The processes watched by name (servers, the watch client), in ms. */
  named: Record<string, number>;
  /** This process's reaped children: the load generator of the window (wrk, pgbench). */
  childrenMs: number;
  selfMs: number;
  postgres: Map<number, number>;
}

export function cpuSnapshot(named: Record<string, number>): CpuSnapshot {
  const at = performance.now();
  const out: Record<string, number> = {};
  for (const [name, pid] of Object.entries(named)) out[name] = procCpuMs(pid);
  return { at, machineMs: machineBusyMs(), named: out, childrenMs: childrenCpuMs(), selfMs: procCpuMs("self"), postgres: postgresMs() };
}

export interface CpuAccount {
  wallMs: number;
  cores: number;
  /** Busy share of the machine's cores over the window. */
  utilisation: number;
  /** ms per record (or call) of: each named process, the load generator, Postgres, this process, the machine, and the rest. */
  perRecord: Record<string, number> & { load: number; postgres: number; bench: number; machine: number; other: number };
}

/** CPU spent between two snapshots, per record. */
export function cpuAccount(a: CpuSnapshot, b: CpuSnapshot, records: number): CpuAccount {
  let pg = 0;
  for (const ms of b.postgres.values()) pg += ms;
  for (const ms of a.postgres.values()) pg -= ms;
  const per = (ms: number) => ms / Math.max(1, records);
  const named: Record<string, number> = {};
  let namedSum = 0;
  for (const name of Object.keys(b.named)) {
    const ms = b.named[name] - (a.named[name] ?? 0);
    named[name] = per(ms);
    if (Number.isFinite(ms)) namedSum += ms;
  }
  const wallMs = b.at - a.at;
  const machine = b.machineMs - a.machineMs;
  const load = b.childrenMs - a.childrenMs;
  const bench = b.selfMs - a.selfMs;
  const cores = os.availableParallelism();
  return {
    wallMs,
    cores,
    utilisation: machine / (wallMs * cores),
    perRecord: {
      ...named,
      load: per(load),
      postgres: per(pg),
      bench: per(bench),
      machine: per(machine),
      other: per(machine - namedSum - load - pg - bench),
    },
  };
}

/** Resident set size now and at its peak (VmRSS, VmHWM), in MB. */
export function rssMb(pid: number): { now: number; peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { now: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 };
}
