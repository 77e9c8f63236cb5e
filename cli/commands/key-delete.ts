import { byName, defineDeleteCommand } from "../delete-command.js";

export const keyDelete = defineDeleteCommand({
  noun: "key",
  describe: "Delete a public key (attestations it verified stay verified)",
  target: byName("key"),
  examples: [["Delete the key ci", "chainloop key delete ci"]],
  service: async () => (await import("../../gen/proto/chainloop/v1/key_pb.js")).KeyService,
  remove: (keys, name) => keys.deleteKey({ name }),
});
