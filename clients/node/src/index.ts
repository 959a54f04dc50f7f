export * from "./client.js";
export * from "./gen/autoglm/v1/common_pb.js";
export * from "./gen/autoglm/v1/generation_pb.js";
export * from "./gen/autoglm/v1/model_pb.js";
export * from "./gen/autoglm/v1/user_pb.js";
export * from "./gen/autoglm/v1/tool_pb.js";
export * from "./gen/autoglm/v1/memory_pb.js";
export * from "./gen/google/rpc/error_details_pb.js";
