// Small facts every layer of the tests asks for, stated once: a digest for a name, what a call
// that should fail failed with (a ConnectError's code and message, or a domain error's kind),
// and every item of a paged list.
import { createHash } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { DomainError } from "../../server/domain/errors.js";

/** A well-formed sha256 digest, the same for the same text: `sha256:<64 hex>`. */
export const digest = (s: string): string => `sha256:${createHash("sha256").update(s).digest("hex")}`;

/** What `p` rejected with (an Error unless said otherwise); throws when it resolved (the call was expected to fail). */
export async function rejection<E = Error>(p: Promise<unknown>): Promise<E> {
  try {
    await p;
  } catch (e) {
    return e as E;
  }
  throw new Error("expected the call to fail");
}

/** The ConnectError `p` rejected with (anything else thrown is converted as connect-es does). */
export async function connectError(p: Promise<unknown>): Promise<ConnectError> {
  return ConnectError.from(await rejection<unknown>(p));
}

/** The code and message (without the "[code]" prefix) of the error `p` rejected with. */
export async function failure(p: Promise<unknown>): Promise<{ code: Code; message: string }> {
  const err = await connectError(p);
  return { code: err.code, message: err.rawMessage };
}

/** The code of the error `p` rejected with. */
export async function codeOf(p: Promise<unknown>): Promise<Code> {
  return (await connectError(p)).code;
}

/** "ok" when `p` resolved, else the code and message of its error: for calls that may go either way. */
export async function outcome(p: Promise<unknown>): Promise<{ code: Code; message: string } | "ok"> {
  try {
    await p;
    return "ok";
  } catch (e) {
    const err = ConnectError.from(e);
    return { code: err.code, message: err.rawMessage };
  }
}

/** The kind and message of the domain error (server/domain/errors.ts) a use case rejected with; anything else is rethrown. */
export async function domainFailure(p: Promise<unknown>): Promise<{ kind: string; message: string }> {
  const e = await rejection<unknown>(p);
  if (e instanceof DomainError) return { kind: e.kind, message: e.message };
  throw e;
}

/**
 * Every page of a paged list (AIP-158), first to last: `fetch` gets the page token ("" first)
 * and returns the page's items and its next page token ("" on the last page).
 */
export async function pagesOf<T>(fetch: (pageToken: string) => Promise<{ items: T[]; next: string }>): Promise<T[][]> {
  const pages: T[][] = [];
  let pageToken = "";
  do {
    const page = await fetch(pageToken);
    pages.push(page.items);
    pageToken = page.next;
    if (pages.length > 100_000) throw new Error("the list never ended: is next_page_token ever empty?");
  } while (pageToken !== "");
  return pages;
}

/** Every item of a paged list, in order (see pagesOf). */
export async function listAll<T>(fetch: (pageToken: string) => Promise<{ items: T[]; next: string }>): Promise<T[]> {
  return (await pagesOf(fetch)).flat();
}
