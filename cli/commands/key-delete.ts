import { defineCommand, nameArgument } from "../command.js";

export const keyDelete = defineCommand({
  command: "delete [name]",
  aliases: ["rm"],
  describe: "Delete a public key (attestations it verified stay verified)",
  builder: (y) => nameArgument(y, "key"),
  examples: [["Delete the key ci", "chainloop key delete ci"]],
  async action(args, { client, out }) {
    const { KeyService } = await import("../../gen/proto/chainloop/v1/key_pb.js");
    await client(KeyService).deleteKey({ name: args.name });
    out.done(`key "${args.name}" deleted`);
  },
});
