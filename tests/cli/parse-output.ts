// Reading what the CLI printed, for the deployment and token tests: tables (whose headers may
// hold one space, as in "LOGICAL ENV"), `describe` fields, one-line errors, and a closed port.
import net, { type AddressInfo } from "node:net";
import type { CliResult } from "./run-cli.js";

export const UUID_PATTERN = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
export const UUID = new RegExp(`^${UUID_PATTERN}$`);
/** A relative time of something that happened during the test. */
export const RECENT = /^(just now|\d{1,2}s ago|1m ago)$/;

/**
 * A table cut into cells at the columns its header line starts. Headers are separated by two
 * or more spaces (the CLI uses three), so a header may itself contain one space.
 */
export function parseTable(text: string): { headers: string[]; rows: Record<string, string>[] } {
  const [header, ...lines] = text.replace(/\n$/, "").split("\n");
  const columns = [...header.matchAll(/\S+(?: \S+)*/g)].map((m) => ({ name: m[0], start: m.index! }));
  const rows = lines.map((line) =>
    Object.fromEntries(columns.map((c, i) => [c.name, line.slice(c.start, columns[i + 1]?.start).trim()])),
  );
  return { headers: columns.map((c) => c.name), rows };
}

/** `describe`'s `Label:  value` lines (labels may contain spaces). */
export function parseFields(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .trimEnd()
      .split("\n")
      .map((line) => {
        const m = /^([A-Za-z][\w -]*?):(?: +(.*))?$/.exec(line);
        if (!m) throw new Error(`not a field line: ${JSON.stringify(line)}`);
        return [m[1], m[2] ?? ""];
      }),
  );
}

/** Exit 1, nothing on stdout, and exactly one line on stderr matching `pattern`. */
export function expectOneErrorLine(result: CliResult, pattern: RegExp): void {
  expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 1, stdout: "" });
  expect(result.stderr).toMatch(pattern);
  expect(result.stderr.split("\n")).toHaveLength(2); // one line and its newline
  expect(result.stderr).not.toMatch(/^\s+at /m);
}

/** Exit 2 (usage), nothing on stdout, the usage on stderr, ending with `message`. */
export function expectUsageError(result: CliResult, message: string): void {
  expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: "" });
  expect(result.stderr).toContain("Global options:");
  expect(result.stderr.trimEnd().slice(-message.length)).toBe(message);
  expect(result.stderr).not.toMatch(/^\s+at /m);
}

/** A port nothing listens on: one the OS just handed out and that was closed again. */
export async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
