// KeyService: proto ⇄ domain mapping only.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { KeyAlgorithm as AlgorithmPb, KeySchema, KeyService, type Key as KeyPb } from "../../gen/proto/chainloop/v1/key_pb.js";
import { KEY_ALGORITHMS } from "../shared/dsse.js";
import { protoEnum } from "../shared/proto.js";
import type { KeyUseCase, SigningKey } from "../domain/keys.js";
import { callerOf } from "../interceptors/caller.js";

const ALGORITHM_PB = protoEnum(KEY_ALGORITHMS, AlgorithmPb);

export function keyToPb(k: SigningKey): KeyPb {
  return create(KeySchema, {
    id: k.id,
    name: k.name,
    algorithm: ALGORITHM_PB.toPb[k.algorithm],
    publicKeyPem: k.publicKeyPem,
    fingerprint: k.fingerprint,
    createTime: timestampFromDate(k.createdAt),
  });
}

export function keyHandlers(keys: KeyUseCase): ServiceImpl<typeof KeyService> {
  return {
    async createKey(req, ctx) {
      const caller = callerOf(ctx);
      const key = await keys.create(caller.organizationId, { publicKeyPem: req.publicKeyPem, name: req.name }, caller);
      return { key: keyToPb(key) };
    },
    async listKeys(_req, ctx) {
      return { keys: (await keys.list(callerOf(ctx).organizationId)).map(keyToPb) };
    },
    async deleteKey(req, ctx) {
      const caller = callerOf(ctx);
      await keys.delete(caller.organizationId, req.name, caller);
      return {};
    },
  };
}
