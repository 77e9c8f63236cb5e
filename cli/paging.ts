// The paging options of list commands (--limit, --page-token, --all) and the loop that fetches
// pages with them: one option group, composed into each command that lists a paged resource
// (AIP-158: page_size, page_token, next_page_token), as the list commands before it spell them.
//
// Loaded on every CLI start (command modules import it): no runtime imports.

/** The largest page the server gives (its MAX_PAGE_SIZE, server/domain/pagination.ts): --limit's upper bound. */
export const MAX_PAGE_SIZE = 1000;

/** `--limit`, `--page-token`, `--all`, saying `what` a page holds ("Deliveries"). */
export function pagingOptions(what: string) {
  return {
    limit: { type: "number", default: 50, describe: `${what} per page, 1 to ${MAX_PAGE_SIZE}` },
    "page-token": { type: "string", default: "", defaultDescription: "the first page", describe: "Start at this page (printed by the previous list)" },
    all: { type: "boolean", default: false, describe: "Fetch every page" },
  } as const;
}

export const PAGING_FLAGS = ["limit", "page-token", "all"];

/** For a builder's check(): the usage error of a bad --limit, or undefined. */
export function limitProblem(limit: number): string | undefined {
  return Number.isInteger(limit) && limit >= 1 && limit <= MAX_PAGE_SIZE ? undefined : `--limit must be a whole number from 1 to ${MAX_PAGE_SIZE}`;
}

export interface PagingArgs {
  limit: number;
  pageToken: string;
  all: boolean;
}

/**
 * The page at --page-token (or the first), and with --all every page after it. `nextPageToken`
 * is set when more pages exist that were not fetched: the command prints how to get them.
 */
export async function fetchPages<T>(
  args: PagingArgs,
  page: (pageSize: number, pageToken: string) => Promise<{ rows: T[]; nextPageToken: string }>,
): Promise<{ rows: T[]; nextPageToken: string }> {
  const rows: T[] = [];
  let pageToken = args.pageToken;
  do {
    const next = await page(args.limit, pageToken);
    rows.push(...next.rows);
    pageToken = next.nextPageToken;
  } while (args.all && pageToken);
  return { rows, nextPageToken: pageToken };
}

/** Every page, the largest the server gives: for commands that show the whole list, with no paging options. */
export async function fetchAll<T>(page: (pageSize: number, pageToken: string) => Promise<{ rows: T[]; nextPageToken: string }>): Promise<T[]> {
  return (await fetchPages({ limit: MAX_PAGE_SIZE, pageToken: "", all: true }, page)).rows;
}

/**
 * The hint for the next page: "more deliveries exist: add --page-token … for the next page, or
 * --all for every page". `sameFlags` are flags the next run must repeat as printed (deployment
 * list's --at, resolved to the instant this run used).
 */
export function morePagesNote(what: string, nextPageToken: string, sameFlags = ""): string {
  return `more ${what} exist: add${sameFlags ? ` ${sameFlags}` : ""} --page-token ${nextPageToken} for the next page, or --all for every page`;
}
