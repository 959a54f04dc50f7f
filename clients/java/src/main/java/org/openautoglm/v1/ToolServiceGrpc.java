package org.openautoglm.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Tools the model may call: HTTP APIs and local Python functions.
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
   * Tools the model may call: HTTP APIs and local Python functions.
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
          .build();
    }
  }

  /**
   * <pre>
   * Tools the model may call: HTTP APIs and local Python functions.
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
  }

  /**
   * <pre>
   * Tools the model may call: HTTP APIs and local Python functions.
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
  }

  /**
   * <pre>
   * Tools the model may call: HTTP APIs and local Python functions.
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
  }

  private static final int METHODID_REGISTER_TOOL = 0;
  private static final int METHODID_LIST_TOOLS = 1;
  private static final int METHODID_GET_TOOL = 2;
  private static final int METHODID_DELETE_TOOL = 3;
  private static final int METHODID_INVOKE_TOOL = 4;

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
              .build();
        }
      }
    }
    return result;
  }
}
