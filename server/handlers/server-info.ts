// ServerInfoService: the server's versions, read once when the handlers are built (at start).
// Open (no token, see routes.ts): it answers versions and nothing else.
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { GetServerInfoResponseSchema, ServerInfoService } from "../../gen/proto/chainloop/v1/server_info_pb.js";
import { buildCommit, packageVersion } from "../version.js";

/** The API this server serves: the protobuf package of its services ("chainloop.v1"). */
export const API_VERSION = ServerInfoService.typeName.slice(0, ServerInfoService.typeName.lastIndexOf("."));

export interface ServerInfo {
  serverVersion: string;
  apiVersion: string;
  buildCommit: string;
}

/** What this server reports: package.json's version, API_VERSION, and the build commit when known. */
export function currentServerInfo(env: NodeJS.ProcessEnv = process.env): ServerInfo {
  return { serverVersion: packageVersion(), apiVersion: API_VERSION, buildCommit: buildCommit(env) };
}

export function serverInfoHandlers(info: ServerInfo = currentServerInfo()): ServiceImpl<typeof ServerInfoService> {
  const answer = create(GetServerInfoResponseSchema, info);
  return {
    getServerInfo() {
      return answer;
    },
  };
}
