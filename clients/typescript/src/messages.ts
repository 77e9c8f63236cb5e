// The generated messages, enums and service descriptors of the API (src/gen, from proto/ by
// `npm run generate`; never edited by hand).
export * from "./gen/chainloop/v1/api_token_pb.js";
export * from "./gen/chainloop/v1/artifact_pb.js";
export * from "./gen/chainloop/v1/attestation_pb.js";
export * from "./gen/chainloop/v1/delivery_metrics_pb.js";
export * from "./gen/chainloop/v1/deployment_pb.js";
export * from "./gen/chainloop/v1/environment_pb.js";
export * from "./gen/chainloop/v1/key_pb.js";
export * from "./gen/chainloop/v1/policy_pb.js";
export * from "./gen/chainloop/v1/server_info_pb.js";
export * from "./gen/chainloop/v1/webhook_pb.js";
export * from "./gen/google/rpc/error_details_pb.js";
export * from "./gen/grpc/health/v1/health_pb.js";
