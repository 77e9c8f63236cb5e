// Every command of the CLI, registered as one explicit array (no directory scanning).
import { defineGroup } from "../command.js";
import { environmentCreate } from "./environment-create.js";
import { environmentDelete } from "./environment-delete.js";
import { environmentDescribe } from "./environment-describe.js";
import { environmentList } from "./environment-list.js";
import { environmentUpdate } from "./environment-update.js";
import { logicalEnvironmentCreate } from "./logical-environment-create.js";
import { logicalEnvironmentDelete } from "./logical-environment-delete.js";
import { logicalEnvironmentList } from "./logical-environment-list.js";

export const commands = [
  defineGroup({
    command: "environment",
    aliases: ["env"],
    describe: "Manage environments: the infrastructure targets artifacts are deployed to",
    commands: [environmentCreate, environmentList, environmentDescribe, environmentUpdate, environmentDelete],
  }),
  defineGroup({
    command: "logical-environment",
    aliases: ["logical-env"],
    describe: "Manage logical environments: lifecycle stages such as staging and production",
    commands: [logicalEnvironmentCreate, logicalEnvironmentList, logicalEnvironmentDelete],
  }),
];
