// The web page (the live view, source in server/ui/, built by `npm run build:ui` into dist/ui),
// served from the API's own port: GET/HEAD `/` (and `/index.html`) answer the page, never
// cached (it names the current assets); `/assets/<name>` answer Vite's content-hashed files,
// cached for a year. Nothing else is served: only plain file names directly inside
// dist/ui/assets, so no path can reach outside it. Everything else falls through to Connect.
import fs from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import type http2 from "node:http2";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** dist/ui, from dist/server (compiled) or from server/ (sources run directly). */
export const UI_DIR = [path.resolve(HERE, "../ui"), path.resolve(HERE, "../dist/ui")].find((d) =>
  fs.existsSync(path.join(d, "index.html")),
) ?? path.resolve(HERE, "../ui");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".json": "application/json",
  ".map": "application/json",
  ".txt": "text/plain; charset=utf-8",
};

const PAGE_HEADERS = {
  "cache-control": "no-cache",
  // Same-origin only: the page talks to this server's API and nothing else.
  "content-security-policy":
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'",
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
};
const ASSET_HEADERS = {
  "cache-control": "public, max-age=31536000, immutable",
  "x-content-type-options": "nosniff",
};

const ASSET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

type AnyRequest = IncomingMessage | http2.Http2ServerRequest;
type AnyResponse = ServerResponse | http2.Http2ServerResponse;

/** Answers the request when it is for the page or one of its assets; returns false otherwise. */
export function serveUi(req: AnyRequest, res: AnyResponse, dir: string = UI_DIR): boolean {
  if (req.method !== "GET" && req.method !== "HEAD") return false;
  const pathname = (req.url ?? "").split("?")[0];
  if (pathname === "/" || pathname === "/index.html") {
    send(req, res, path.join(dir, "index.html"), PAGE_HEADERS, () => {
      res.writeHead(503, { "content-type": "text/plain; charset=utf-8" });
      res.end("The web page is not built: run `npm run build:ui` (part of `npm run build`).\n");
    });
    return true;
  }
  if (pathname.startsWith("/assets/")) {
    let name: string;
    try {
      name = decodeURIComponent(pathname.slice("/assets/".length));
    } catch {
      name = "";
    }
    // One plain file name: no separators, no "..", no hidden files.
    if (!ASSET_NAME.test(name) || name.includes("..")) {
      notFound(res);
      return true;
    }
    send(req, res, path.join(dir, "assets", name), ASSET_HEADERS, () => notFound(res));
    return true;
  }
  return false;
}

function send(req: AnyRequest, res: AnyResponse, file: string, headers: Record<string, string>, missing: () => void): void {
  fs.readFile(file, (err, body) => {
    if (err) {
      missing();
      return;
    }
    res.writeHead(200, {
      ...headers,
      "content-type": TYPES[path.extname(file)] ?? "application/octet-stream",
      "content-length": String(body.length),
    });
    if (req.method === "HEAD") res.end();
    else res.end(body);
  });
}

function notFound(res: AnyResponse): void {
  res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
  res.end("not found\n");
}
