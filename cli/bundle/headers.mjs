// The CLI bundle's `Headers` (esbuild inject, see build.mjs): used by Connect for request and
// response headers and trailers. Node's global Headers is undici's, and touching it loads all
// of undici (~25 ms on every start, for a CLI that talks HTTP through node:http). This is the
// WHATWG Headers behaviour Connect relies on: case-insensitive names, values trimmed, appended
// values joined with ", ", iteration in name order, any HeadersInit accepted.
// Only the bundle's own code sees it; globalThis.Headers (and so fetch) is untouched.
export class Headers {
  #map = new Map();

  constructor(init) {
    if (init == null) return;
    if (typeof init !== "object" && typeof init !== "function") throw new TypeError("Headers: init must be an object");
    if (typeof init.forEach === "function" && typeof init.get === "function" && !Array.isArray(init)) {
      init.forEach((value, name) => this.append(name, value));
    } else if (typeof init[Symbol.iterator] === "function") {
      for (const pair of init) {
        const [name, value, ...rest] = pair;
        if (rest.length > 0 || pair.length !== 2) throw new TypeError("Headers: each header must be a [name, value] pair");
        this.append(name, value);
      }
    } else {
      for (const name of Object.keys(init)) this.append(name, init[name]);
    }
  }

  append(name, value) {
    const key = normalizeName(name);
    const v = normalizeValue(value);
    const old = this.#map.get(key);
    this.#map.set(key, old === undefined ? v : `${old}, ${v}`);
  }

  set(name, value) {
    this.#map.set(normalizeName(name), normalizeValue(value));
  }

  get(name) {
    return this.#map.get(normalizeName(name)) ?? null;
  }

  has(name) {
    return this.#map.has(normalizeName(name));
  }

  delete(name) {
    this.#map.delete(normalizeName(name));
  }

  getSetCookie() {
    const v = this.#map.get("set-cookie");
    return v === undefined ? [] : [v];
  }

  forEach(callback, thisArg) {
    for (const [name, value] of this.entries()) callback.call(thisArg, value, name, this);
  }

  *entries() {
    yield* [...this.#map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  *keys() {
    for (const [name] of this.entries()) yield name;
  }

  *values() {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator]() {
    return this.entries();
  }

  get [Symbol.toStringTag]() {
    return "Headers";
  }
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function normalizeName(name) {
  const s = String(name);
  if (!TOKEN.test(s)) throw new TypeError(`Headers: invalid header name ${JSON.stringify(s)}`);
  return s.toLowerCase();
}

function normalizeValue(value) {
  const s = String(value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, "");
  if (/[\0\r\n]/.test(s)) throw new TypeError("Headers: invalid header value");
  return s;
}
