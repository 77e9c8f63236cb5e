// The CLI bundle (cli/bundle/build.mjs → dist/cli/chainloop.cjs) and how cli/chainloop.js
// picks it: the bundle must behave exactly like the compiled modules it is made from, and the
// launcher must run it with a code cache, or fall back to dist/cli/main.js when it is stale.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT } from "../helpers/server.js";

const BUNDLE = path.join(ROOT, "dist/cli/chainloop.cjs");
const COMPILED = path.join(ROOT, "dist/cli/main.js");

function run(file: string, args: string[], cwd = ROOT) {
  const r = spawnSync(process.execPath, [file, ...args], { cwd, env: { PATH: process.env.PATH ?? "" }, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("the CLI bundle", () => {
  beforeAll(() => {
    if (!fs.existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run npm run build (tsc, then build:cli)`);
  });

  it.each([
    [["--help"]],
    [["deployment", "record", "--help"]],
    [["token", "create", "--help"]],
    [["deployment", "record", "--env", "e", "--logical-env", "l", "--deployment-name", "n", "--kind", "CONTAINER_IMAGE", "--digest", "sha256:1"]],
    [["deployment", "list", "--status", "gone"]],
    [["token"]],
  ])("prints what the compiled CLI prints for %j", (args) => {
    const bundled = run(BUNDLE, args);
    expect(bundled).toEqual(run(COMPILED, args));
    expect(bundled.code === 0 ? bundled.stdout : bundled.stderr).toContain("chainloop");
  });

  it("finds the package's version from any directory", () => {
    const version = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).version;
    expect(run(BUNDLE, ["--version"], os.tmpdir())).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
  });
});

describe("cli/chainloop.js", () => {
  let tree: string;
  const launcher = () => path.join(tree, "cli/chainloop.js");
  const file = (relative: string) => path.join(tree, relative);
  /** Sets a file's modification time `seconds` from now. */
  const age = (relative: string, seconds: number) => {
    const t = new Date(Date.now() + seconds * 1000);
    fs.utimesSync(file(relative), t, t);
  };

  beforeEach(() => {
    // A copy of the launcher in a tree of its own, with stand-ins for what it runs.
    tree = fs.mkdtempSync(path.join(os.tmpdir(), "chainloop-launcher-"));
    fs.mkdirSync(file("cli"));
    fs.mkdirSync(file("dist/cli"), { recursive: true });
    fs.copyFileSync(path.join(ROOT, "cli/chainloop.js"), launcher());
    fs.writeFileSync(file("package.json"), JSON.stringify({ type: "module" }));
    fs.writeFileSync(file("dist/cli/main.js"), 'process.stdout.write(`compiled ${process.argv.slice(2).join(" ")}\\n`);\n');
    fs.writeFileSync(
      file("dist/cli/chainloop.cjs"),
      'process.stdout.write(`bundle ${__dirname} ${typeof require("node:path").join} ${process.argv.slice(2).join(" ")}\\n`);\n',
    );
    fs.writeFileSync(file("dist/.tsbuildinfo.build"), "{}");
    age("dist/.tsbuildinfo.build", -60);
  });
  afterEach(() => fs.rmSync(tree, { recursive: true, force: true }));

  it("runs the bundle, saves a code cache on the first run and uses it after", () => {
    expect(run(launcher(), ["a", "b"])).toEqual({ code: 0, stdout: `bundle ${file("dist/cli")} function a b\n`, stderr: "" });
    const cache = file("dist/cli/chainloop.cjs.cache");
    expect(fs.existsSync(cache)).toBe(true);
    const key = fs.readFileSync(cache).subarray(0, 200).toString("latin1").split("\n")[0];
    expect(key).toMatch(new RegExp(`^${process.version.replace(/\./g, "\\.")} ${process.arch} \\d+ [\\d.]+$`));
    const written = fs.statSync(cache).mtimeMs;

    expect(run(launcher(), ["c"]).stdout).toBe(`bundle ${file("dist/cli")} function c\n`);
    expect(fs.statSync(cache).mtimeMs).toBe(written); // accepted, so not written again
    expect(fs.readdirSync(file("dist/cli")).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("replaces a cache that does not fit the bundle: garbage, or another build of it", () => {
    const cache = file("dist/cli/chainloop.cjs.cache");
    run(launcher(), []);
    const stat = fs.statSync(file("dist/cli/chainloop.cjs"));
    fs.writeFileSync(cache, Buffer.concat([Buffer.from(`${process.version} ${process.arch} ${stat.size} ${stat.mtimeMs}\n`), Buffer.from("not a code cache")]));
    expect(run(launcher(), ["x"]).stdout).toContain("bundle ");
    expect(fs.readFileSync(cache).length).toBeGreaterThan(100);

    age("dist/cli/chainloop.cjs", 5); // rebuilt: the old cache must not be used
    const before = fs.readFileSync(cache);
    expect(run(launcher(), ["y"]).stdout).toContain(" y\n");
    expect(fs.readFileSync(cache).equals(before)).toBe(false);
  });

  it("falls back to the compiled modules when tsc ran after the bundle was built, or there is no bundle", () => {
    age("dist/.tsbuildinfo.build", 60);
    expect(run(launcher(), ["a"])).toEqual({ code: 0, stdout: "compiled a\n", stderr: "" });
    fs.rmSync(file("dist/cli/chainloop.cjs"));
    expect(run(launcher(), ["b"]).stdout).toBe("compiled b\n");
    fs.rmSync(file("dist/cli/main.js"));
    expect(run(launcher(), [])).toEqual({
      code: 1,
      stdout: "",
      stderr: "chainloop: the CLI is not built yet; run `npm install` (or `npm run build`) in the repository first\n",
    });
  });

  it("still runs when it cannot save the cache", () => {
    fs.mkdirSync(file("dist/cli/chainloop.cjs.cache")); // a directory where the file would go
    expect(run(launcher(), ["z"])).toEqual({ code: 0, stdout: `bundle ${file("dist/cli")} function z\n`, stderr: "" });
    expect(fs.readdirSync(file("dist/cli")).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });
});
