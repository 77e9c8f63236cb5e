// Empty sections of describe-like output print "(none)", not a header with nothing under it:
// `artifact describe` of an artifact that was attested but never deployed. (A list command's
// own table keeps its header line when empty, as scripts read it; see tests/cli/output.test.ts.)
import { createHash } from "node:crypto";
import { AttestationService } from "../../gen/proto/chainloop/v1/attestation_pb.js";
import { clientBackends } from "../helpers/backends.js";
import { connectClient } from "../helpers/clients.js";
import { serveFor } from "../helpers/served.js";
import { TEST_ADMIN_TOKEN } from "../helpers/server.js";
import { runCli } from "./run-cli.js";

describe.each(clientBackends())("empty sections on %s", (backend) => {
  const served = serveFor(backend);

  it('artifact describe prints "(none)" for RUNNING NOW and RAN BEFORE of an artifact never deployed', async () => {
    const hex = createHash("sha256").update("never deployed").digest("hex");
    const statement = {
      _type: "https://in-toto.io/Statement/v1",
      subject: [{ name: "tool", digest: { sha256: hex } }],
      predicateType: "https://chainloop.dev/attestation/minimal/v1",
      predicate: {},
    };
    await connectClient(AttestationService, served.url).pushAttestation({
      content: new TextEncoder().encode(JSON.stringify(statement)),
      workflow: "build",
      project: "tool",
      projectVersion: "v1",
    });
    const res = await runCli(["artifact", "describe", `sha256:${hex}`], { CHAINLOOP_SERVER: served.url, CHAINLOOP_TOKEN: TEST_ADMIN_TOKEN });
    expect(res).toMatchObject({ code: 0, stderr: "" });
    const [head, running, ranBefore, evidence] = res.stdout.split("\n\n");
    expect(head).toMatch(/^Digest: +sha256:[0-9a-f]{64}\nRunning in: +nowhere now\n/);
    expect(running).toBe("RUNNING NOW\n(none)");
    expect(ranBefore).toBe("RAN BEFORE\n(none)");
    expect(evidence).toMatch(/^EVIDENCE\nATTESTATION +ROLE +PROJECT +VERSION +WORKFLOW +VERIFIED +PUSHED +PREDICATE\nsha256:[0-9a-f]{12} +subject +tool +v1 +build +no +/);
    expect(res.stdout.endsWith("\n")).toBe(true);
    expect(res.stdout.split("\n\n")).toHaveLength(4);
  });
});
