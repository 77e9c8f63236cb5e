// Structured JSON logs (pino): one line per event on stdout.
import { pino, type Logger as PinoLogger, type DestinationStream } from "pino";

export type Logger = PinoLogger;

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
