import { defineCommand } from "../command.js";

export const keyList = defineCommand({
  command: "list",
  aliases: ["ls"],
  describe: "List the public keys that verify evidence signatures",
  builder: (y) => y,
  examples: [["Every key, as a JSON array", "chainloop key list -o json"]],
  async action(args, { client, out }) {
    const { KeyService, KeySchema, KeyAlgorithm } = await import("../../gen/proto/chainloop/v1/key_pb.js");
    const { keys } = await client(KeyService).listKeys({});
    out.list(KeySchema, keys, [
      { header: "NAME", value: (k) => k.name },
      { header: "ALGORITHM", value: (k) => KeyAlgorithm[k.algorithm] },
      { header: "FINGERPRINT", value: (k) => k.fingerprint },
      { header: "CREATED", value: (k) => k.createTime },
    ]);
    if (keys.length === 0 && args.output === "table") out.note("no keys: evidence is accepted unsigned and shown as unverified");
  },
});
