// The README's "Calling the API" examples are the files the client tests run (tests/clients/):
// each one appears in the README verbatim, in a fenced block, so the two cannot drift apart.
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "../helpers/server.js";

const README = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");

test.each([
  ["sh", "clients/examples/curl.sh"],
  ["python", "clients/python/examples/quickstart.py"],
  ["js", "clients/typescript/examples/quickstart.mjs"],
  ["js", "clients/examples/grpc-js.mjs"],
])("README shows %s example %s verbatim", (lang, file) => {
  const text = fs.readFileSync(path.join(ROOT, file), "utf8").trimEnd();
  expect(README).toContain("```" + lang + "\n" + text + "\n```");
});
