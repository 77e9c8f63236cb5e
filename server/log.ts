// Structured JSON logs (pino): one line per event on stdout.
//
// The server writes them asynchronously (serverLogDestination): lines logged while a write is
// under way go out together in the next one, so a busy server makes one write for many calls
// instead of one per call (one log line per call cost the record path ~10 % of its CPU when each
// was its own write). pino flushes what is pending when the process exits; a process killed
// with SIGKILL may lose the lines of its last few milliseconds.
import { pino, type Logger as PinoLogger, type DestinationStream } from "pino";

export type Logger = PinoLogger;

/** stdout, written asynchronously (see above). */
export function serverLogDestination(): DestinationStream {
  return pino.destination({ dest: 1, sync: false });
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "chainloop" },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Belt and braces: whatever a caller logs, these keys never carry their values.
      redact: { paths: ["authorization", "*.authorization", "secret", "*.secret", "password", "*.password"], censor: "[redacted]" },
    },
    destination,
  );
}

/** An error for a log line: its message, and its cause's (a domain error wrapping what a driver said). */
export function errorText(e: unknown): string {
  const cause = (e as { cause?: unknown } | null)?.cause;
  return cause === undefined ? textOf(e) : `${textOf(e)}: ${textOf(cause)}`;
}

/** An error's message, or its code when it has none (a refused connection's AggregateError). */
function textOf(e: unknown): string {
  const { message, code } = (e ?? {}) as { message?: unknown; code?: unknown };
  if (typeof message === "string" && message !== "") return message;
  return typeof code === "string" ? code : String(e);
}
