// How results and errors are shown. Two formats:
//
//   table  for people: aligned columns with headers, relative times, short confirmations.
//   json   for scripts: proto3 canonical JSON (toJson, with fields at their default value
//          included so every key is always present), pretty-printed on stdout.
//          One resource (create, update, describe) prints one object; a list prints an array
//          of those objects, also when it is empty or has one element; delete prints nothing.
//
// Notes meant for people (such as "there is another page") go to stderr in both formats, so
// stdout stays parseable. Errors are one line on stderr in both formats (formatError).
import { toJson, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { formatDuration } from "../server/shared/durations.js";

export type OutputFormat = "table" | "json";

/** What a table cell or a `describe` field shows: text, yes/no, a time, or nothing. */
export type Cell = string | boolean | Timestamp | undefined;

export interface Column<T> {
  header: string;
  /** Times show as relative ("3m ago"). */
  value: (row: T) => Cell;
  /** Longer values are cut, ending in "…" (the full value is in `describe` and `-o json`). */
  maxWidth?: number;
}

export class Output {
  constructor(private readonly format: OutputFormat) {}

  /** A resource that was created or changed: its JSON, or `confirmation` in table mode. */
  changed<D extends DescMessage>(schema: D, message: MessageShape<D>, confirmation: string): void {
    process.stdout.write(this.format === "json" ? json(schema, message) : `${confirmation}\n`);
  }

  /** One resource in full: its JSON, or one aligned `Label:  value` line per field (times absolute and relative). */
  details<D extends DescMessage>(schema: D, message: MessageShape<D>, fields: [label: string, value: Cell][]): void {
    if (this.format === "json") {
      process.stdout.write(json(schema, message));
      return;
    }
    const width = Math.max(...fields.map(([label]) => label.length)) + 2;
    process.stdout.write(lines(fields.map(([label, value]) => `${label}:`.padEnd(width) + text(value, when))));
  }

  /** A list: a JSON array, or a table. */
  list<D extends DescMessage>(schema: D, rows: MessageShape<D>[], columns: Column<MessageShape<D>>[]): void {
    if (this.format === "json") {
      process.stdout.write(`${JSON.stringify(rows.map((r) => toJson(schema, r, JSON_OPTIONS)), null, 2)}\n`);
      return;
    }
    process.stdout.write(table(columns, rows));
  }

  /**
   * A titled table inside a describe-like output, table mode only (the JSON is the whole
   * response, printed by details()): a blank line, the title, then the table, or "(none)" when
   * there are no rows. A list command's own table (list()) keeps its header line when empty.
   */
  section<T>(title: string, rows: T[], columns: Column<T>[]): void {
    if (this.format === "table") process.stdout.write(`\n${title}\n${rows.length > 0 ? table(columns, rows) : `${NONE}\n`}`);
  }

  /** Something that is not an API message (`version`, `config …`): `value` as JSON, or `text` in table mode. */
  plain(value: unknown, text: string): void {
    process.stdout.write(this.format === "json" ? `${JSON.stringify(value, null, 2)}\n` : text);
  }

  /** The outcome of an action that leaves no resource to show (a delete); json mode prints nothing. */
  done(confirmation: string): void {
    if (this.format === "table") process.stdout.write(`${confirmation}\n`);
  }

  /** A note for people, on stderr in both formats. */
  note(text: string): void {
    process.stderr.write(`${text}\n`);
  }
}

const JSON_OPTIONS = { alwaysEmitImplicit: true } as const;

/** What an empty section shows instead of a header with nothing under it. */
export const NONE = "(none)";

function json<D extends DescMessage>(schema: D, message: MessageShape<D>): string {
  return `${JSON.stringify(toJson(schema, message, JSON_OPTIONS), null, 2)}\n`;
}

/** Aligned columns, separated by three spaces; a header line even when there are no rows. */
export function table<T>(columns: Column<T>[], rows: T[]): string {
  const cells = [
    columns.map((c) => c.header),
    ...rows.map((row) => columns.map((c) => truncate(text(c.value(row), ago), c.maxWidth))),
  ];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i].length)));
  return lines(cells.map((line) => line.map((cell, i) => cell.padEnd(widths[i])).join("   ")));
}

function lines(texts: string[]): string {
  return texts.map((t) => `${t.trimEnd()}\n`).join("");
}

function text(cell: Cell, time: (ts: Timestamp) => string): string {
  if (cell === undefined) return "";
  if (typeof cell === "boolean") return cell ? "yes" : "no";
  if (typeof cell === "string") return oneLine(cell);
  return time(cell);
}

function truncate(text: string, max: number | undefined): string {
  return max !== undefined && text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Line breaks and other control characters would break a table or a one-line message. */
function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]+/g, " ");
}

/** "3m ago" and the like. */
export function ago(ts: Timestamp, now = new Date()): string {
  const seconds = Math.floor((now.getTime() - timestampDate(ts).getTime()) / 1000);
  if (seconds < 1) return "just now";
  for (const [unit, size] of UNITS) {
    if (seconds >= size) return `${Math.floor(seconds / size)}${unit} ago`;
  }
  return `${seconds}s ago`;
}

const UNITS: [string, number][] = [
  ["y", 365 * 86400],
  ["d", 86400],
  ["h", 3600],
  ["m", 60],
];

/** Like ago(), but a time in the future shows as "in 3d" (expiry times). */
export function relative(ts: Timestamp, now = new Date()): string {
  const seconds = Math.floor((timestampDate(ts).getTime() - now.getTime()) / 1000);
  if (seconds < 1) return ago(ts, now);
  for (const [unit, size] of UNITS) {
    if (seconds >= size) return `in ${Math.floor(seconds / size)}${unit}`;
  }
  return `in ${seconds}s`;
}

/** An absolute time with its relative form: "2025-01-31T12:00:00Z (3m ago)". */
export function when(ts: Timestamp, now = new Date()): string {
  return `${timestampDate(ts).toISOString().replace(/\.\d+Z$/, "Z")} (${ago(ts, now)})`;
}

/** What the command knew when it failed, for a more helpful line. */
export interface ErrorContext {
  /** Whether an API token was sent (--token, CHAINLOOP_TOKEN or a context); never the token itself. */
  tokenGiven?: boolean;
  /** Why no token was sent, when a context explains it (never a token); replaces the usual advice. */
  missingTokenHint?: string;
  /** The context whose server was used, to name it when that server cannot be reached. */
  context?: string;
  /** The --timeout in force (ms), to name it when a request ran out of time. */
  timeoutMs?: number;
}

/**
 * The one line printed for a failed command. A ConnectError caused by a Node system error
 * (ECONNREFUSED, ENOTFOUND, …) never reached the server; a deadline_exceeded under --timeout
 * means the server did not answer in time; any other one is the server's answer, shown as
 * `<code>: <message>` (for unauthenticated without a token, with how to give one).
 */
export function formatError(e: unknown, server: string, context: ErrorContext = {}): string {
  if (e instanceof ConnectError) {
    if (isSystemError(e.cause)) {
      return oneLine(
        context.context === undefined
          ? `chainloop: cannot reach the server at ${server} (${e.rawMessage}); ` +
              "check that it is running, or point the CLI at it with --server or CHAINLOOP_SERVER"
          : `chainloop: cannot reach the server at ${server} of context "${context.context}" (${e.rawMessage}); ` +
              "check that it is running, or point the CLI at another with --server, CHAINLOOP_SERVER or --context",
      );
    }
    if (e.code === Code.DeadlineExceeded && context.timeoutMs) {
      return oneLine(
        `chainloop: the server at ${server} did not answer within ${formatDuration(context.timeoutMs)} (--timeout); ` +
          "check that it is healthy, or allow more time with --timeout or CHAINLOOP_TIMEOUT",
      );
    }
    if (e.code === Code.Unauthenticated && context.tokenGiven === false) {
      // Without a token that is the only reason; the server's own words would repeat this.
      return oneLine(
        `chainloop: unauthenticated: no API token was given; ${context.missingTokenHint ?? "pass --token <token> or set CHAINLOOP_TOKEN"}`,
      );
    }
    return oneLine(`chainloop: ${codeToString(e.code)}: ${e.rawMessage}`);
  }
  return oneLine(`chainloop: ${e instanceof Error ? e.message : String(e)}`);
}

function isSystemError(e: unknown): boolean {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === "string";
}
