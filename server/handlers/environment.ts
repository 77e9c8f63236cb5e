// EnvironmentService: proto ⇄ domain mapping only.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  EnvironmentSchema,
  EnvironmentService,
  LogicalEnvironmentSchema,
  type Environment as EnvironmentPb,
  type LogicalEnvironment as LogicalEnvironmentPb,
} from "../../gen/proto/chainloop/v1/environment_pb.js";
import type { Environment, EnvironmentUseCase, LogicalEnvironment } from "../domain/environments.js";
import { callerOf } from "../interceptors/caller.js";
import { durationFromMs, durationToMs } from "../shared/proto.js";

export function environmentToPb(e: Environment): EnvironmentPb {
  return create(EnvironmentSchema, {
    id: e.id,
    name: e.name,
    description: e.description,
    createTime: timestampFromDate(e.createdAt),
    updateTime: timestampFromDate(e.updatedAt),
    heartbeatInterval: e.heartbeatIntervalMs !== undefined ? durationFromMs(e.heartbeatIntervalMs) : undefined,
  });
}


export function logicalEnvironmentToPb(l: LogicalEnvironment): LogicalEnvironmentPb {
  return create(LogicalEnvironmentSchema, {
    id: l.id,
    name: l.name,
    description: l.description,
    builtIn: l.builtIn,
    createTime: timestampFromDate(l.createdAt),
  });
}

export function environmentHandlers(envs: EnvironmentUseCase): ServiceImpl<typeof EnvironmentService> {
  return {
    async createEnvironment(req, ctx) {
      const caller = callerOf(ctx);
      const env = await envs.create(
        caller.organizationId,
        { name: req.name, description: req.description, heartbeatIntervalMs: durationToMs(req.heartbeatInterval) },
        caller,
      );
      return { environment: environmentToPb(env) };
    },
    async getEnvironment(req, ctx) {
      return { environment: environmentToPb(await envs.get(callerOf(ctx).organizationId, req.name)) };
    },
    async listEnvironments(req, ctx) {
      const page = await envs.list(callerOf(ctx).organizationId, {
        pageSize: req.pageSize,
        pageToken: req.pageToken,
        query: req.query,
      });
      return { environments: page.items.map(environmentToPb), nextPageToken: page.nextPageToken };
    },
    async updateEnvironment(req, ctx) {
      const paths = req.updateMask?.paths.length ? req.updateMask.paths : ["description"];
      const caller = callerOf(ctx);
      const env = await envs.update(
        caller.organizationId,
        {
          name: req.environment?.name ?? "",
          description: req.environment?.description,
          heartbeatIntervalMs: durationToMs(req.environment?.heartbeatInterval),
        },
        paths,
        caller,
      );
      return { environment: environmentToPb(env) };
    },
    async deleteEnvironment(req, ctx) {
      const caller = callerOf(ctx);
      await envs.delete(caller.organizationId, req.name, caller);
      return {};
    },
    async listLogicalEnvironments(_req, ctx) {
      const list = await envs.listLogical(callerOf(ctx).organizationId);
      return { logicalEnvironments: list.map(logicalEnvironmentToPb) };
    },
    async createLogicalEnvironment(req, ctx) {
      const caller = callerOf(ctx);
      const l = await envs.createLogical(caller.organizationId, { name: req.name, description: req.description }, caller);
      return { logicalEnvironment: logicalEnvironmentToPb(l) };
    },
    async deleteLogicalEnvironment(req, ctx) {
      const caller = callerOf(ctx);
      await envs.deleteLogical(caller.organizationId, req.name, caller);
      return {};
    },
  };
}
