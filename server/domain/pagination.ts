// The one pagination helper (AIP-158): page sizes and opaque page tokens.
//
// A token is base64url(JSON) holding a version, a fingerprint of the request's filters and
// the keyset position of the last item returned. Replaying a token with other filters, or
// sending anything that is not a token we issued in this shape, is InvalidArgument. Tokens
// carry no secrets and grant nothing: the position is always applied inside the caller's own
// organization.
import { createHash } from "node:crypto";
import { InvalidArgument } from "./errors.js";

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;
const TOKEN_VERSION = 1;
const TOKEN_MAX_LENGTH = 2048;

export interface PageRequest {
  pageSize: number;
  pageToken: string;
}

export interface Page<T> {
  items: T[];
  nextPageToken: string;
}

/** How each cursor element is checked on decode; "digits" is a non-negative integer as a string (a bigint key, at most 2^63 - 1). */
export type CursorShape = "string" | "number" | "digits";
const INT64_MAX = 2n ** 63n - 1n;

/** A keyset position: the sort-key values of the last item on the previous page. */
export type Cursor = Array<string | number>;

export interface PageQuery {
  limit: number;
  after: Cursor | undefined;
  fingerprint: string;
}

function fingerprintOf(filters: unknown): string {
  return createHash("sha256").update(JSON.stringify(filters ?? null)).digest("base64url").slice(0, 16);
}

/**
 * Validates page_size and page_token against the request's filters.
 * @param filters every request field that shapes the result set, normalized.
 * @param cursorShape the type of each cursor element, checked on decode.
 */
export function parsePageRequest(
  req: PageRequest,
  filters: unknown,
  cursorShape: CursorShape[],
): PageQuery {
  if (!Number.isInteger(req.pageSize) || req.pageSize < 0) {
    throw new InvalidArgument(`page_size must be zero or positive, got ${req.pageSize}`);
  }
  const limit = req.pageSize === 0 ? DEFAULT_PAGE_SIZE : Math.min(req.pageSize, MAX_PAGE_SIZE);
  const fingerprint = fingerprintOf(filters);
  if (req.pageToken === "") return { limit, after: undefined, fingerprint };

  const invalid = () =>
    new InvalidArgument("page_token is not a token this server issued; start again without page_token");
  if (req.pageToken.length > TOKEN_MAX_LENGTH || !/^[A-Za-z0-9_-]+$/.test(req.pageToken)) throw invalid();
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(req.pageToken, "base64url").toString("utf8"));
  } catch {
    throw invalid();
  }
  if (typeof decoded !== "object" || decoded === null || Array.isArray(decoded)) throw invalid();
  const { v, f, a } = decoded as { v?: unknown; f?: unknown; a?: unknown };
  if (v !== TOKEN_VERSION || typeof f !== "string" || !Array.isArray(a) || a.length !== cursorShape.length) {
    throw invalid();
  }
  a.forEach((value, i) => {
    const shape = cursorShape[i];
    const ok =
      shape === "number"
        ? Number.isFinite(value)
        : typeof value === "string" && (shape === "string" || (/^\d{1,19}$/.test(value) && BigInt(value) <= INT64_MAX));
    if (!ok) throw invalid();
  });
  if (f !== fingerprint) {
    throw new InvalidArgument(
      "page_token was issued for a different query (filters changed); repeat the same filters or start again without page_token",
    );
  }
  return { limit, after: a as Cursor, fingerprint };
}

/**
 * Builds a page from `rows`, which the repository fetched with `limit + 1` so that we know
 * whether another page exists without counting.
 */
export function toPage<T>(rows: T[], query: PageQuery, cursorOf: (item: T) => Cursor): Page<T> {
  if (rows.length <= query.limit) return { items: rows, nextPageToken: "" };
  const items = rows.slice(0, query.limit);
  const token = Buffer.from(
    JSON.stringify({ v: TOKEN_VERSION, f: query.fingerprint, a: cursorOf(items[items.length - 1]) }),
    "utf8",
  ).toString("base64url");
  return { items, nextPageToken: token };
}
