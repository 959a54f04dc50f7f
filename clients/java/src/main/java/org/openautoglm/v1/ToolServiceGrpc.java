package org.openautoglm.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Tools the model may call: HTTP APIs, local Python functions and the tools of MCP servers.
 * </pre>
 */
@javax.annotation.Generated(
    value = "by gRPC proto compiler",
    comments = "Source: autoglm/v1/tool.proto")
@io.grpc.stub.annotations.GrpcGenerated
public final class ToolServiceGrpc {

  private ToolServiceGrpc() {}

  public static final String SERVICE_NAME = "autoglm.v1.ToolService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<org.openautoglm.v1.RegisterToolRequest,
      org.openautoglm.v1.RegisterToolResponse> getRegisterToolMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "RegisterTool",
      requestType = org.openautoglm.v1.RegisterToolRequest.class,
      responseType = org.openautoglm.v1.RegisterToolResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<org.openautoglm.v1.RegisterToolRequest,
      org.openautoglm.v1.RegisterToolResponse> getRegisterToolMethod() {
    io.grpc.MethodDescriptor<org.openautoglm.v1.RegisterToolRequest, org.openautoglm.v1.RegisterToolResponse> getRegisterToolMethod;
    if ((getRegisterToolMethod = ToolServiceGrpc.getRegisterToolMethod) == null) {
      synchronized (ToolServiceGrpc.class) {
        if ((getRegisterToolMethod = ToolServiceGrpc.getRegisterToolMethod) == null) {
          ToolServiceGrpc.getRegisterToolMethod = getRegisterToolMethod =
              io.grpc.MethodDescriptor.<org.openautoglm.v1.RegisterToolRequest, org.openautoglm.v1.RegisterToolResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "RegisterTool"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.RegisterToolRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.RegisterToolResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ToolServiceMethodDescriptorSupplier("RegisterTool"))
              .build();
        }
      }
    }
    return getRegisterToolMethod;
  }

  private static volatile io.grpc.MethodDescriptor<org.openautoglm.v1.ListToolsRequest,
      org.openautoglm.v1.ListToolsResponse> getListToolsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListTools",
      requestType = org.openautoglm.v1.ListToolsRequest.class,
      responseType = org.openautoglm.v1.ListToolsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<org.openautoglm.v1.ListToolsRequest,
      org.openautoglm.v1.ListToolsResponse> getListToolsMethod() {
    io.grpc.MethodDescriptor<org.openautoglm.v1.ListToolsRequest, org.openautoglm.v1.ListToolsResponse> getListToolsMethod;
    if ((getListToolsMethod = ToolServiceGrpc.getListToolsMethod) == null) {
      synchronized (ToolServiceGrpc.class) {
        if ((getListToolsMethod = ToolServiceGrpc.getListToolsMethod) == null) {
          ToolServiceGrpc.getListToolsMethod = getListToolsMethod =
              io.grpc.MethodDescriptor.<org.openautoglm.v1.ListToolsRequest, org.openautoglm.v1.ListToolsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListTools"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.ListToolsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.ListToolsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ToolServiceMethodDescriptorSupplier("ListTools"))
              .build();
        }
      }
    }
    return getListToolsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<org.openautoglm.v1.GetToolRequest,
      org.openautoglm.v1.GetToolResponse> getGetToolMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetTool",
      requestType = org.openautoglm.v1.GetToolRequest.class,
      responseType = org.openautoglm.v1.GetToolResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<org.openautoglm.v1.GetToolRequest,
      org.openautoglm.v1.GetToolResponse> getGetToolMethod() {
    io.grpc.MethodDescriptor<org.openautoglm.v1.GetToolRequest, org.openautoglm.v1.GetToolResponse> getGetToolMethod;
    if ((getGetToolMethod = ToolServiceGrpc.getGetToolMethod) == null) {
      synchronized (ToolServiceGrpc.class) {
        if ((getGetToolMethod = ToolServiceGrpc.getGetToolMethod) == null) {
          ToolServiceGrpc.getGetToolMethod = getGetToolMethod =
              io.grpc.MethodDescriptor.<org.openautoglm.v1.GetToolRequest, org.openautoglm.v1.GetToolResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetTool"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.GetToolRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.GetToolResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ToolServiceMethodDescriptorSupplier("GetTool"))
              .build();
        }
      }
    }
    return getGetToolMethod;
  }

  private static volatile io.grpc.MethodDescriptor<org.openautoglm.v1.DeleteToolRequest,
      org.openautoglm.v1.DeleteToolResponse> getDeleteToolMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "DeleteTool",
      requestType = org.openautoglm.v1.DeleteToolRequest.class,
      responseType = org.openautoglm.v1.DeleteToolResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<org.openautoglm.v1.DeleteToolRequest,
      org.openautoglm.v1.DeleteToolResponse> getDeleteToolMethod() {
    io.grpc.MethodDescriptor<org.openautoglm.v1.DeleteToolRequest, org.openautoglm.v1.DeleteToolResponse> getDeleteToolMethod;
    if ((getDeleteToolMethod = ToolServiceGrpc.getDeleteToolMethod) == null) {
      synchronized (ToolServiceGrpc.class) {
        if ((getDeleteToolMethod = ToolServiceGrpc.getDeleteToolMethod) == null) {
          ToolServiceGrpc.getDeleteToolMethod = getDeleteToolMethod =
              io.grpc.MethodDescriptor.<org.openautoglm.v1.DeleteToolRequest, org.openautoglm.v1.DeleteToolResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "DeleteTool"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.DeleteToolRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.DeleteToolResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ToolServiceMethodDescriptorSupplier("DeleteTool"))
              .build();
        }
      }
    }
    return getDeleteToolMethod;
  }

  private static volatile io.grpc.MethodDescriptor<org.openautoglm.v1.InvokeToolRequest,
      org.openautoglm.v1.InvokeToolResponse> getInvokeToolMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "InvokeTool",
      requestType = org.openautoglm.v1.InvokeToolRequest.class,
      responseType = org.openautoglm.v1.InvokeToolResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<org.openautoglm.v1.InvokeToolRequest,
      org.openautoglm.v1.InvokeToolResponse> getInvokeToolMethod() {
    io.grpc.MethodDescriptor<org.openautoglm.v1.InvokeToolRequest, org.openautoglm.v1.InvokeToolResponse> getInvokeToolMethod;
    if ((getInvokeToolMethod = ToolServiceGrpc.getInvokeToolMethod) == null) {
      synchronized (ToolServiceGrpc.class) {
        if ((getInvokeToolMethod = ToolServiceGrpc.getInvokeToolMethod) == null) {
          ToolServiceGrpc.getInvokeToolMethod = getInvokeToolMethod =
              io.grpc.MethodDescriptor.<org.openautoglm.v1.InvokeToolRequest, org.openautoglm.v1.InvokeToolResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "InvokeTool"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.InvokeToolRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.InvokeToolResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ToolServiceMethodDescriptorSupplier("InvokeTool"))
              .build();
        }
      }
    }
    return getInvokeToolMethod;
  }

  private static volatile io.grpc.MethodDescriptor<org.openautoglm.v1.RegisterMcpServerRequest,
      org.openautoglm.v1.RegisterMcpServerResponse> getRegisterMcpServerMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "RegisterMcpServer",
      requestType = org.openautoglm.v1.RegisterMcpServerRequest.class,
      responseType = org.openautoglm.v1.RegisterMcpServerResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<org.openautoglm.v1.RegisterMcpServerRequest,
      org.openautoglm.v1.RegisterMcpServerResponse> getRegisterMcpServerMethod() {
    io.grpc.MethodDescriptor<org.openautoglm.v1.RegisterMcpServerRequest, org.openautoglm.v1.RegisterMcpServerResponse> getRegisterMcpServerMethod;
    if ((getRegisterMcpServerMethod = ToolServiceGrpc.getRegisterMcpServerMethod) == null) {
      synchronized (ToolServiceGrpc.class) {
        if ((getRegisterMcpServerMethod = ToolServiceGrpc.getRegisterMcpServerMethod) == null) {
          ToolServiceGrpc.getRegisterMcpServerMethod = getRegisterMcpServerMethod =
              io.grpc.MethodDescriptor.<org.openautoglm.v1.RegisterMcpServerRequest, org.openautoglm.v1.RegisterMcpServerResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "RegisterMcpServer"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.RegisterMcpServerRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.RegisterMcpServerResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ToolServiceMethodDescriptorSupplier("RegisterMcpServer"))
              .build();
        }
      }
    }
    return getRegisterMcpServerMethod;
  }

  private static volatile io.grpc.MethodDescriptor<org.openautoglm.v1.ListMcpServersRequest,
      org.openautoglm.v1.ListMcpServersResponse> getListMcpServersMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListMcpServers",
      requestType = org.openautoglm.v1.ListMcpServersRequest.class,
      responseType = org.openautoglm.v1.ListMcpServersResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<org.openautoglm.v1.ListMcpServersRequest,
      org.openautoglm.v1.ListMcpServersResponse> getListMcpServersMethod() {
    io.grpc.MethodDescriptor<org.openautoglm.v1.ListMcpServersRequest, org.openautoglm.v1.ListMcpServersResponse> getListMcpServersMethod;
    if ((getListMcpServersMethod = ToolServiceGrpc.getListMcpServersMethod) == null) {
      synchronized (ToolServiceGrpc.class) {
        if ((getListMcpServersMethod = ToolServiceGrpc.getListMcpServersMethod) == null) {
          ToolServiceGrpc.getListMcpServersMethod = getListMcpServersMethod =
              io.grpc.MethodDescriptor.<org.openautoglm.v1.ListMcpServersRequest, org.openautoglm.v1.ListMcpServersResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListMcpServers"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.ListMcpServersRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.ListMcpServersResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ToolServiceMethodDescriptorSupplier("ListMcpServers"))
              .build();
        }
      }
    }
    return getListMcpServersMethod;
  }

  private static volatile io.grpc.MethodDescriptor<org.openautoglm.v1.GetMcpServerRequest,
      org.openautoglm.v1.GetMcpServerResponse> getGetMcpServerMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetMcpServer",
      requestType = org.openautoglm.v1.GetMcpServerRequest.class,
      responseType = org.openautoglm.v1.GetMcpServerResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<org.openautoglm.v1.GetMcpServerRequest,
      org.openautoglm.v1.GetMcpServerResponse> getGetMcpServerMethod() {
    io.grpc.MethodDescriptor<org.openautoglm.v1.GetMcpServerRequest, org.openautoglm.v1.GetMcpServerResponse> getGetMcpServerMethod;
    if ((getGetMcpServerMethod = ToolServiceGrpc.getGetMcpServerMethod) == null) {
      synchronized (ToolServiceGrpc.class) {
        if ((getGetMcpServerMethod = ToolServiceGrpc.getGetMcpServerMethod) == null) {
          ToolServiceGrpc.getGetMcpServerMethod = getGetMcpServerMethod =
              io.grpc.MethodDescriptor.<org.openautoglm.v1.GetMcpServerRequest, org.openautoglm.v1.GetMcpServerResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetMcpServer"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.GetMcpServerRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.GetMcpServerResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ToolServiceMethodDescriptorSupplier("GetMcpServer"))
              .build();
        }
      }
    }
    return getGetMcpServerMethod;
  }

  private static volatile io.grpc.MethodDescriptor<org.openautoglm.v1.DeleteMcpServerRequest,
      org.openautoglm.v1.DeleteMcpServerResponse> getDeleteMcpServerMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "DeleteMcpServer",
      requestType = org.openautoglm.v1.DeleteMcpServerRequest.class,
      responseType = org.openautoglm.v1.DeleteMcpServerResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<org.openautoglm.v1.DeleteMcpServerRequest,
      org.openautoglm.v1.DeleteMcpServerResponse> getDeleteMcpServerMethod() {
    io.grpc.MethodDescriptor<org.openautoglm.v1.DeleteMcpServerRequest, org.openautoglm.v1.DeleteMcpServerResponse> getDeleteMcpServerMethod;
    if ((getDeleteMcpServerMethod = ToolServiceGrpc.getDeleteMcpServerMethod) == null) {
      synchronized (ToolServiceGrpc.class) {
        if ((getDeleteMcpServerMethod = ToolServiceGrpc.getDeleteMcpServerMethod) == null) {
          ToolServiceGrpc.getDeleteMcpServerMethod = getDeleteMcpServerMethod =
              io.grpc.MethodDescriptor.<org.openautoglm.v1.DeleteMcpServerRequest, org.openautoglm.v1.DeleteMcpServerResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "DeleteMcpServer"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.DeleteMcpServerRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.DeleteMcpServerResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ToolServiceMethodDescriptorSupplier("DeleteMcpServer"))
              .build();
        }
      }
    }
    return getDeleteMcpServerMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static ToolServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<ToolServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<ToolServiceStub>() {
        @java.lang.Override
        public ToolServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new ToolServiceStub(channel, callOptions);
        }
      };
    return ToolServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static ToolServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<ToolServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<ToolServiceBlockingStub>() {
        @java.lang.Override
        public ToolServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new ToolServiceBlockingStub(channel, callOptions);
        }
      };
    return ToolServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static ToolServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<ToolServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<ToolServiceFutureStub>() {
        @java.lang.Override
        public ToolServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new ToolServiceFutureStub(channel, callOptions);
        }
      };
    return ToolServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Tools the model may call: HTTP APIs, local Python functions and the tools of MCP servers.
   * </pre>
   */
  public static abstract class ToolServiceImplBase implements io.grpc.BindableService {

    /**
     * <pre>
     * Registers an HTTP tool.
     * </pre>
     */
    public void registerTool(org.openautoglm.v1.RegisterToolRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.RegisterToolResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getRegisterToolMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists all tools.
     * </pre>
     */
    public void listTools(org.openautoglm.v1.ListToolsRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.ListToolsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListToolsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Returns one tool by name.
     * </pre>
     */
    public void getTool(org.openautoglm.v1.GetToolRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.GetToolResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetToolMethod(), responseObserver);
    }

    /**
     * <pre>
     * Deletes an HTTP tool.
     * </pre>
     */
    public void deleteTool(org.openautoglm.v1.DeleteToolRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.DeleteToolResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getDeleteToolMethod(), responseObserver);
    }

    /**
     * <pre>
     * Calls a tool directly with the given arguments.
     * </pre>
     */
    public void invokeTool(org.openautoglm.v1.InvokeToolRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.InvokeToolResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getInvokeToolMethod(), responseObserver);
    }

    /**
     * <pre>
     * Registers an MCP server (admin only); its tools appear as `server_name.tool_name`.
     * </pre>
     */
    public void registerMcpServer(org.openautoglm.v1.RegisterMcpServerRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.RegisterMcpServerResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getRegisterMcpServerMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists the registered MCP servers with their state.
     * </pre>
     */
    public void listMcpServers(org.openautoglm.v1.ListMcpServersRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.ListMcpServersResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListMcpServersMethod(), responseObserver);
    }

    /**
     * <pre>
     * Returns one registered MCP server.
     * </pre>
     */
    public void getMcpServer(org.openautoglm.v1.GetMcpServerRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.GetMcpServerResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetMcpServerMethod(), responseObserver);
    }

    /**
     * <pre>
     * Removes an MCP server (admin only) and its tools; its calls in flight end with an error.
     * </pre>
     */
    public void deleteMcpServer(org.openautoglm.v1.DeleteMcpServerRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.DeleteMcpServerResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getDeleteMcpServerMethod(), responseObserver);
    }

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
          .addMethod(
            getRegisterToolMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                org.openautoglm.v1.RegisterToolRequest,
                org.openautoglm.v1.RegisterToolResponse>(
                  this, METHODID_REGISTER_TOOL)))
          .addMethod(
            getListToolsMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                org.openautoglm.v1.ListToolsRequest,
                org.openautoglm.v1.ListToolsResponse>(
                  this, METHODID_LIST_TOOLS)))
          .addMethod(
            getGetToolMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                org.openautoglm.v1.GetToolRequest,
                org.openautoglm.v1.GetToolResponse>(
                  this, METHODID_GET_TOOL)))
          .addMethod(
            getDeleteToolMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                org.openautoglm.v1.DeleteToolRequest,
                org.openautoglm.v1.DeleteToolResponse>(
                  this, METHODID_DELETE_TOOL)))
          .addMethod(
            getInvokeToolMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                org.openautoglm.v1.InvokeToolRequest,
                org.openautoglm.v1.InvokeToolResponse>(
                  this, METHODID_INVOKE_TOOL)))
          .addMethod(
            getRegisterMcpServerMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                org.openautoglm.v1.RegisterMcpServerRequest,
                org.openautoglm.v1.RegisterMcpServerResponse>(
                  this, METHODID_REGISTER_MCP_SERVER)))
          .addMethod(
            getListMcpServersMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                org.openautoglm.v1.ListMcpServersRequest,
                org.openautoglm.v1.ListMcpServersResponse>(
                  this, METHODID_LIST_MCP_SERVERS)))
          .addMethod(
            getGetMcpServerMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                org.openautoglm.v1.GetMcpServerRequest,
                org.openautoglm.v1.GetMcpServerResponse>(
                  this, METHODID_GET_MCP_SERVER)))
          .addMethod(
            getDeleteMcpServerMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                org.openautoglm.v1.DeleteMcpServerRequest,
                org.openautoglm.v1.DeleteMcpServerResponse>(
                  this, METHODID_DELETE_MCP_SERVER)))
          .build();
    }
  }

  /**
   * <pre>
   * Tools the model may call: HTTP APIs, local Python functions and the tools of MCP servers.
   * </pre>
   */
  public static final class ToolServiceStub extends io.grpc.stub.AbstractAsyncStub<ToolServiceStub> {
    private ToolServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected ToolServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new ToolServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Registers an HTTP tool.
     * </pre>
     */
    public void registerTool(org.openautoglm.v1.RegisterToolRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.RegisterToolResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getRegisterToolMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists all tools.
     * </pre>
     */
    public void listTools(org.openautoglm.v1.ListToolsRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.ListToolsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListToolsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Returns one tool by name.
     * </pre>
     */
    public void getTool(org.openautoglm.v1.GetToolRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.GetToolResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetToolMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Deletes an HTTP tool.
     * </pre>
     */
    public void deleteTool(org.openautoglm.v1.DeleteToolRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.DeleteToolResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getDeleteToolMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Calls a tool directly with the given arguments.
     * </pre>
     */
    public void invokeTool(org.openautoglm.v1.InvokeToolRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.InvokeToolResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getInvokeToolMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Registers an MCP server (admin only); its tools appear as `server_name.tool_name`.
     * </pre>
     */
    public void registerMcpServer(org.openautoglm.v1.RegisterMcpServerRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.RegisterMcpServerResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getRegisterMcpServerMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists the registered MCP servers with their state.
     * </pre>
     */
    public void listMcpServers(org.openautoglm.v1.ListMcpServersRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.ListMcpServersResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListMcpServersMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Returns one registered MCP server.
     * </pre>
     */
    public void getMcpServer(org.openautoglm.v1.GetMcpServerRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.GetMcpServerResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetMcpServerMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Removes an MCP server (admin only) and its tools; its calls in flight end with an error.
     * </pre>
     */
    public void deleteMcpServer(org.openautoglm.v1.DeleteMcpServerRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.DeleteMcpServerResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getDeleteMcpServerMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * <pre>
   * Tools the model may call: HTTP APIs, local Python functions and the tools of MCP servers.
   * </pre>
   */
  public static final class ToolServiceBlockingStub extends io.grpc.stub.AbstractBlockingStub<ToolServiceBlockingStub> {
    private ToolServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected ToolServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new ToolServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Registers an HTTP tool.
     * </pre>
     */
    public org.openautoglm.v1.RegisterToolResponse registerTool(org.openautoglm.v1.RegisterToolRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getRegisterToolMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists all tools.
     * </pre>
     */
    public org.openautoglm.v1.ListToolsResponse listTools(org.openautoglm.v1.ListToolsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListToolsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns one tool by name.
     * </pre>
     */
    public org.openautoglm.v1.GetToolResponse getTool(org.openautoglm.v1.GetToolRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetToolMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes an HTTP tool.
     * </pre>
     */
    public org.openautoglm.v1.DeleteToolResponse deleteTool(org.openautoglm.v1.DeleteToolRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDeleteToolMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Calls a tool directly with the given arguments.
     * </pre>
     */
    public org.openautoglm.v1.InvokeToolResponse invokeTool(org.openautoglm.v1.InvokeToolRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getInvokeToolMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Registers an MCP server (admin only); its tools appear as `server_name.tool_name`.
     * </pre>
     */
    public org.openautoglm.v1.RegisterMcpServerResponse registerMcpServer(org.openautoglm.v1.RegisterMcpServerRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getRegisterMcpServerMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists the registered MCP servers with their state.
     * </pre>
     */
    public org.openautoglm.v1.ListMcpServersResponse listMcpServers(org.openautoglm.v1.ListMcpServersRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListMcpServersMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns one registered MCP server.
     * </pre>
     */
    public org.openautoglm.v1.GetMcpServerResponse getMcpServer(org.openautoglm.v1.GetMcpServerRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetMcpServerMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Removes an MCP server (admin only) and its tools; its calls in flight end with an error.
     * </pre>
     */
    public org.openautoglm.v1.DeleteMcpServerResponse deleteMcpServer(org.openautoglm.v1.DeleteMcpServerRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDeleteMcpServerMethod(), getCallOptions(), request);
    }
  }

  /**
   * <pre>
   * Tools the model may call: HTTP APIs, local Python functions and the tools of MCP servers.
   * </pre>
   */
  public static final class ToolServiceFutureStub extends io.grpc.stub.AbstractFutureStub<ToolServiceFutureStub> {
    private ToolServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected ToolServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new ToolServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Registers an HTTP tool.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<org.openautoglm.v1.RegisterToolResponse> registerTool(
        org.openautoglm.v1.RegisterToolRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getRegisterToolMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists all tools.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<org.openautoglm.v1.ListToolsResponse> listTools(
        org.openautoglm.v1.ListToolsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListToolsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Returns one tool by name.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<org.openautoglm.v1.GetToolResponse> getTool(
        org.openautoglm.v1.GetToolRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetToolMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Deletes an HTTP tool.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<org.openautoglm.v1.DeleteToolResponse> deleteTool(
        org.openautoglm.v1.DeleteToolRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getDeleteToolMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Calls a tool directly with the given arguments.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<org.openautoglm.v1.InvokeToolResponse> invokeTool(
        org.openautoglm.v1.InvokeToolRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getInvokeToolMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Registers an MCP server (admin only); its tools appear as `server_name.tool_name`.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<org.openautoglm.v1.RegisterMcpServerResponse> registerMcpServer(
        org.openautoglm.v1.RegisterMcpServerRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getRegisterMcpServerMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists the registered MCP servers with their state.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<org.openautoglm.v1.ListMcpServersResponse> listMcpServers(
        org.openautoglm.v1.ListMcpServersRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListMcpServersMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Returns one registered MCP server.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<org.openautoglm.v1.GetMcpServerResponse> getMcpServer(
        org.openautoglm.v1.GetMcpServerRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetMcpServerMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Removes an MCP server (admin only) and its tools; its calls in flight end with an error.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<org.openautoglm.v1.DeleteMcpServerResponse> deleteMcpServer(
        org.openautoglm.v1.DeleteMcpServerRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getDeleteMcpServerMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_REGISTER_TOOL = 0;
  private static final int METHODID_LIST_TOOLS = 1;
  private static final int METHODID_GET_TOOL = 2;
  private static final int METHODID_DELETE_TOOL = 3;
  private static final int METHODID_INVOKE_TOOL = 4;
  private static final int METHODID_REGISTER_MCP_SERVER = 5;
  private static final int METHODID_LIST_MCP_SERVERS = 6;
  private static final int METHODID_GET_MCP_SERVER = 7;
  private static final int METHODID_DELETE_MCP_SERVER = 8;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final ToolServiceImplBase serviceImpl;
    private final int methodId;

    MethodHandlers(ToolServiceImplBase serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_REGISTER_TOOL:
          serviceImpl.registerTool((org.openautoglm.v1.RegisterToolRequest) request,
              (io.grpc.stub.StreamObserver<org.openautoglm.v1.RegisterToolResponse>) responseObserver);
          break;
        case METHODID_LIST_TOOLS:
          serviceImpl.listTools((org.openautoglm.v1.ListToolsRequest) request,
              (io.grpc.stub.StreamObserver<org.openautoglm.v1.ListToolsResponse>) responseObserver);
          break;
        case METHODID_GET_TOOL:
          serviceImpl.getTool((org.openautoglm.v1.GetToolRequest) request,
              (io.grpc.stub.StreamObserver<org.openautoglm.v1.GetToolResponse>) responseObserver);
          break;
        case METHODID_DELETE_TOOL:
          serviceImpl.deleteTool((org.openautoglm.v1.DeleteToolRequest) request,
              (io.grpc.stub.StreamObserver<org.openautoglm.v1.DeleteToolResponse>) responseObserver);
          break;
        case METHODID_INVOKE_TOOL:
          serviceImpl.invokeTool((org.openautoglm.v1.InvokeToolRequest) request,
              (io.grpc.stub.StreamObserver<org.openautoglm.v1.InvokeToolResponse>) responseObserver);
          break;
        case METHODID_REGISTER_MCP_SERVER:
          serviceImpl.registerMcpServer((org.openautoglm.v1.RegisterMcpServerRequest) request,
              (io.grpc.stub.StreamObserver<org.openautoglm.v1.RegisterMcpServerResponse>) responseObserver);
          break;
        case METHODID_LIST_MCP_SERVERS:
          serviceImpl.listMcpServers((org.openautoglm.v1.ListMcpServersRequest) request,
              (io.grpc.stub.StreamObserver<org.openautoglm.v1.ListMcpServersResponse>) responseObserver);
          break;
        case METHODID_GET_MCP_SERVER:
          serviceImpl.getMcpServer((org.openautoglm.v1.GetMcpServerRequest) request,
              (io.grpc.stub.StreamObserver<org.openautoglm.v1.GetMcpServerResponse>) responseObserver);
          break;
        case METHODID_DELETE_MCP_SERVER:
          serviceImpl.deleteMcpServer((org.openautoglm.v1.DeleteMcpServerRequest) request,
              (io.grpc.stub.StreamObserver<org.openautoglm.v1.DeleteMcpServerResponse>) responseObserver);
          break;
        default:
          throw new AssertionError();
      }
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public io.grpc.stub.StreamObserver<Req> invoke(
        io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        default:
          throw new AssertionError();
      }
    }
  }

  private static abstract class ToolServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    ToolServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return org.openautoglm.v1.ToolProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("ToolService");
    }
  }

  private static final class ToolServiceFileDescriptorSupplier
      extends ToolServiceBaseDescriptorSupplier {
    ToolServiceFileDescriptorSupplier() {}
  }

  private static final class ToolServiceMethodDescriptorSupplier
      extends ToolServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final String methodName;

    ToolServiceMethodDescriptorSupplier(String methodName) {
      this.methodName = methodName;
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.MethodDescriptor getMethodDescriptor() {
      return getServiceDescriptor().findMethodByName(methodName);
    }
  }

  private static volatile io.grpc.ServiceDescriptor serviceDescriptor;

  public static io.grpc.ServiceDescriptor getServiceDescriptor() {
    io.grpc.ServiceDescriptor result = serviceDescriptor;
    if (result == null) {
      synchronized (ToolServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new ToolServiceFileDescriptorSupplier())
              .addMethod(getRegisterToolMethod())
              .addMethod(getListToolsMethod())
              .addMethod(getGetToolMethod())
              .addMethod(getDeleteToolMethod())
              .addMethod(getInvokeToolMethod())
              .addMethod(getRegisterMcpServerMethod())
              .addMethod(getListMcpServersMethod())
              .addMethod(getGetMcpServerMethod())
              .addMethod(getDeleteMcpServerMethod())
              .build();
        }
      }
    }
    return result;
  }
}
