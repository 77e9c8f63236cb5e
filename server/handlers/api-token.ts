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
import type { Actor } from "../domain/caller.js";
import type { ApiToken, TokenUseCase } from "../domain/tokens.js";
import { callerOf } from "../interceptors/caller.js";
import { enumFromPb } from "./enums.js";
import { timestampOrUndefined, TOKEN_SCOPE_PB } from "../shared/proto.js";

const scopeFromPb = (scope: ApiTokenScope) =>
  enumFromPb(TOKEN_SCOPE_PB, scope, `scope ${scope} is not a known token scope (${TOKEN_SCOPE_PB.pbNames})`);

export function actorToPb(actor: Actor | undefined): ActorPb | undefined {
  return actor ? create(ActorSchema, { tokenId: actor.tokenId, tokenName: actor.tokenName }) : undefined;
}

export function apiTokenToPb(t: ApiToken): ApiTokenPb {
  return create(ApiTokenSchema, {
    id: t.id,
    name: t.name,
    description: t.description,
    scope: TOKEN_SCOPE_PB.toPb[t.scope],
    createTime: timestampFromDate(t.createdAt),
    expireTime: timestampOrUndefined(t.expiresAt),
    lastUsedTime: timestampOrUndefined(t.lastUsedAt),
    revokeTime: timestampOrUndefined(t.revokedAt),
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
