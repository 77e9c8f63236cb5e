// Versions, read from what ships rather than written down twice: the release is the `version`
// of the nearest package.json (the repository's, above server/, cli/ and dist/), and the build
// commit comes from CHAINLOOP_BUILD_COMMIT or the git checkout the code runs from.
//
// The CLI uses packageVersion() too (`chainloop version`), so it imports nothing but node:.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The directory of the nearest package.json at or above `from` (a file URL or path). */
export function packageRoot(from: string = import.meta.url): string | undefined {
  let dir = path.dirname(from.startsWith("file:") ? fileURLToPath(from) : from);
  for (;;) {
    if (fs.existsSync(path.join(dir, "package.json"))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** The `version` of the nearest package.json at or above `from`; "unknown" without one. */
export function packageVersion(from: string = import.meta.url): string {
  const root = packageRoot(from);
  if (root === undefined) return "unknown";
  try {
    const version = (JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { version?: unknown }).version;
    return typeof version === "string" && version !== "" ? version : "unknown";
  } catch {
    return "unknown";
  }
}

const COMMIT = /^[0-9a-f]{7,64}$/i;

/**
 * The source revision this code was built from: CHAINLOOP_BUILD_COMMIT when it holds a git SHA
 * (an image build sets it), else the HEAD commit of the git checkout at the package root (read
 * from .git's files, no git binary needed); "" when neither is known.
 */
export function buildCommit(env: NodeJS.ProcessEnv = process.env, from: string = import.meta.url): string {
  const given = env.CHAINLOOP_BUILD_COMMIT?.trim();
  if (given && COMMIT.test(given)) return given.toLowerCase();
  const root = packageRoot(from);
  if (root === undefined) return "";
  try {
    return gitHead(root);
  } catch {
    return "";
  }
}

function gitHead(root: string): string {
  let gitDir = path.join(root, ".git");
  const stat = fs.statSync(gitDir, { throwIfNoEntry: false });
  if (!stat) return "";
  if (stat.isFile()) {
    // A worktree or submodule: `.git` names the real git directory.
    const target = /^gitdir: (.+)$/m.exec(fs.readFileSync(gitDir, "utf8"))?.[1]?.trim();
    if (!target) return "";
    gitDir = path.resolve(root, target);
  }
  const head = fs.readFileSync(path.join(gitDir, "HEAD"), "utf8").trim();
  if (/^[0-9a-f]{40}$/.test(head)) return head; // detached
  const ref = /^ref: (refs\/\S+)$/.exec(head)?.[1];
  if (!ref) return "";
  // Refs are shared by all worktrees, in the common directory.
  const commondir = path.join(gitDir, "commondir");
  const common = fs.existsSync(commondir) ? path.resolve(gitDir, fs.readFileSync(commondir, "utf8").trim()) : gitDir;
  for (const dir of [gitDir, common]) {
    const loose = path.join(dir, ref);
    if (fs.existsSync(loose)) {
      const sha = fs.readFileSync(loose, "utf8").trim();
      return /^[0-9a-f]{40}$/.test(sha) ? sha : "";
    }
  }
  const packed = path.join(common, "packed-refs");
  if (!fs.existsSync(packed)) return "";
  for (const line of fs.readFileSync(packed, "utf8").split("\n")) {
    const [sha, name] = line.split(" ");
    if (name === ref && /^[0-9a-f]{40}$/.test(sha)) return sha;
  }
  return "";
}
