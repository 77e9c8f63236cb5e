// ApiTokenService: proto ⇄ domain mapping only.
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  ActorSchema,
  ApiTokenSchema,
  ApiTokenScope,
  ApiTokenService,
  type Actor as ActorPb,
  type ApiToken as ApiTokenPb,
} from "../../gen/proto/chainloop/v1/api_token_pb.js";
import type { Actor, Scope } from "../domain/caller.js";
import type { ApiToken, TokenUseCase } from "../domain/tokens.js";
import { callerOf } from "../interceptors/caller.js";
import { enumFromPb } from "./enums.js";

const SCOPE_TO_PB: Record<Scope, ApiTokenScope> = {
  read: ApiTokenScope.READ,
  write: ApiTokenScope.WRITE,
  admin: ApiTokenScope.ADMIN,
};

const scopeFromPb = (scope: ApiTokenScope) =>
  enumFromPb(SCOPE_TO_PB, scope, `scope ${scope} is not a known token scope (READ, WRITE, ADMIN)`);

export function actorToPb(actor: Actor | undefined): ActorPb | undefined {
  return actor ? create(ActorSchema, { tokenId: actor.tokenId, tokenName: actor.tokenName }) : undefined;
}

export function apiTokenToPb(t: ApiToken): ApiTokenPb {
  return create(ApiTokenSchema, {
    id: t.id,
    name: t.name,
    description: t.description,
    scope: SCOPE_TO_PB[t.scope],
    createTime: timestampFromDate(t.createdAt),
    expireTime: t.expiresAt ? timestampFromDate(t.expiresAt) : undefined,
    lastUsedTime: t.lastUsedAt ? timestampFromDate(t.lastUsedAt) : undefined,
    revokeTime: t.revokedAt ? timestampFromDate(t.revokedAt) : undefined,
    createdBy: actorToPb(t.createdBy),
  });
}

export function apiTokenHandlers(tokens: TokenUseCase): ServiceImpl<typeof ApiTokenService> {
  return {
    async createApiToken(req, ctx) {
      const { token, secret } = await tokens.create(callerOf(ctx), {
        name: req.name,
        description: req.description,
        scope: scopeFromPb(req.scope),
        expiresAt: req.expireTime ? timestampDate(req.expireTime) : undefined,
      });
      return { token: apiTokenToPb(token), secret };
    },
    async listApiTokens(req, ctx) {
      const page = await tokens.list(callerOf(ctx).organizationId, {
        pageSize: req.pageSize,
        pageToken: req.pageToken,
        showRevoked: req.showRevoked,
      });
      return { tokens: page.items.map(apiTokenToPb), nextPageToken: page.nextPageToken };
    },
    async revokeApiToken(req, ctx) {
      return { token: apiTokenToPb(await tokens.revoke(callerOf(ctx), req.id)) };
    },
  };
}
