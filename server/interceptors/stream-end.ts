// When a server stream ends, and how: the code it ended with (the error's, Canceled when the
// client went away, else OK). Shared by the interceptors that account for a call when it ends
// (logging, metrics): for a stream, that is when its last message was sent, not when it opened.
import { Code, ConnectError } from "@connectrpc/connect";

/** The Connect code of what a call threw: a ConnectError's, else Unknown. */
export const codeOf = (e: unknown): Code => (e instanceof ConnectError ? e.code : Code.Unknown);

/**
 * `messages`, passed through; `ended(code)` is called once when the stream ends: 0 (OK) when it
 * ran out, the error's code when it threw, Canceled when the client went away (the request's
 * signal aborted).
 */
export async function* onStreamEnd<T>(messages: AsyncIterable<T>, signal: AbortSignal, ended: (code: number) => void): AsyncGenerator<T> {
  let code = 0;
  try {
    yield* messages;
  } catch (e) {
    code = codeOf(e);
    throw e;
  } finally {
    if (code === 0 && signal.aborted) code = Code.Canceled;
    ended(code);
  }
}
