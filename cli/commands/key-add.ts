import { defineCommand } from "../command.js";

export const keyAdd = defineCommand({
  command: "add",
  describe: "Register a public key (ECDSA P-256 or Ed25519, PEM): from then on, only evidence signed by a registered key is accepted",
  builder: (y) =>
    y.options({
      file: { type: "string", demandOption: true, requiresArg: true, describe: "The PEM public key (cosign.pub, or openssl pkey -pubout); - reads standard input" },
      name: { type: "string", default: "", defaultDescription: "key- and the start of its fingerprint", describe: "A name for the key (DNS label)" },
    }),
  examples: [
    ["Register cosign's public key", "chainloop key add --file cosign.pub --name ci"],
    ["Register a key made with openssl", "openssl pkey -in ci.key -pubout | chainloop key add --file - --name ci"],
  ],
  async action(args, { client, out }) {
    const [{ KeyService, KeySchema, KeyAlgorithm }, { readInput }] = await Promise.all([
      import("../../gen/proto/chainloop/v1/key_pb.js"),
      import("../evidence.js"),
    ]);
    const pem = (await readInput(args.file)).toString("utf8");
    const { key } = await client(KeyService).createKey({ publicKeyPem: pem, name: args.name });
    const k = key!;
    out.changed(KeySchema, k, `key "${k.name}" added (${KeyAlgorithm[k.algorithm]}, ${k.fingerprint})`);
  },
});
