// Evidence for tests: RecordDeployment refuses a digest no attestation mentions, so tests
// attest what they record, through the API, in one statement with many subjects.
import { AttestationService, type Attestation } from "../../gen/proto/chainloop/v1/attestation_pb.js";
import { connectClient } from "./clients.js";

export const MINIMAL_PREDICATE_TYPE = "https://chainloop.dev/attestation/minimal/v1";

export interface AttestOptions {
  workflow?: string;
  project?: string;
  version?: string;
  /** API token; the test admin token by default. */
  token?: string;
}

/** A minimal in-toto v1 statement naming `digests` (`sha256:…` / `sha512:…`) as subjects. */
export function statementFor(digests: string[], predicate: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    _type: "https://in-toto.io/Statement/v1",
    subject: digests.map((d, i) => {
      const [algorithm, hex] = d.split(":");
      return { name: `subject-${i}`, digest: { [algorithm]: hex } };
    }),
    predicateType: MINIMAL_PREDICATE_TYPE,
    predicate,
  };
}

/** Pushes one unsigned statement whose subjects are `digests`; returns the stored attestation. */
export async function attest(baseUrl: string, digests: string[], opts: AttestOptions = {}): Promise<Attestation> {
  const workflow = opts.workflow ?? "test-workflow";
  const project = opts.project ?? "test-project";
  const projectVersion = opts.version ?? "";
  // The predicate carries the metadata, so the same digests attested for another project are another document.
  const statement = statementFor(digests, { workflow, project, version: projectVersion });
  const client =
    opts.token === undefined ? connectClient(AttestationService, baseUrl) : connectClient(AttestationService, baseUrl, "1.1", opts.token);
  const res = await client.pushAttestation({
    content: Buffer.from(JSON.stringify(statement)),
    workflow,
    project,
    projectVersion,
  });
  return res.attestation!;
}
