package org.openautoglm.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Conversation sessions and the long-term knowledge cache.
 * </pre>
 */
@javax.annotation.Generated(
    value = "by gRPC proto compiler",
    comments = "Source: autoglm/v1/memory.proto")
@io.grpc.stub.annotations.GrpcGenerated
public final class MemoryServiceGrpc {

  private MemoryServiceGrpc() {}

  public static final String SERVICE_NAME = "autoglm.v1.MemoryService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<org.openautoglm.v1.GetSessionRequest,
      org.openautoglm.v1.GetSessionResponse> getGetSessionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetSession",
      requestType = org.openautoglm.v1.GetSessionRequest.class,
      responseType = org.openautoglm.v1.GetSessionResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<org.openautoglm.v1.GetSessionRequest,
      org.openautoglm.v1.GetSessionResponse> getGetSessionMethod() {
    io.grpc.MethodDescriptor<org.openautoglm.v1.GetSessionRequest, org.openautoglm.v1.GetSessionResponse> getGetSessionMethod;
    if ((getGetSessionMethod = MemoryServiceGrpc.getGetSessionMethod) == null) {
      synchronized (MemoryServiceGrpc.class) {
        if ((getGetSessionMethod = MemoryServiceGrpc.getGetSessionMethod) == null) {
          MemoryServiceGrpc.getGetSessionMethod = getGetSessionMethod =
              io.grpc.MethodDescriptor.<org.openautoglm.v1.GetSessionRequest, org.openautoglm.v1.GetSessionResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetSession"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.GetSessionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.GetSessionResponse.getDefaultInstance()))
              .setSchemaDescriptor(new MemoryServiceMethodDescriptorSupplier("GetSession"))
              .build();
        }
      }
    }
    return getGetSessionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<org.openautoglm.v1.ListSessionsRequest,
      org.openautoglm.v1.ListSessionsResponse> getListSessionsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListSessions",
      requestType = org.openautoglm.v1.ListSessionsRequest.class,
      responseType = org.openautoglm.v1.ListSessionsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<org.openautoglm.v1.ListSessionsRequest,
      org.openautoglm.v1.ListSessionsResponse> getListSessionsMethod() {
    io.grpc.MethodDescriptor<org.openautoglm.v1.ListSessionsRequest, org.openautoglm.v1.ListSessionsResponse> getListSessionsMethod;
    if ((getListSessionsMethod = MemoryServiceGrpc.getListSessionsMethod) == null) {
      synchronized (MemoryServiceGrpc.class) {
        if ((getListSessionsMethod = MemoryServiceGrpc.getListSessionsMethod) == null) {
          MemoryServiceGrpc.getListSessionsMethod = getListSessionsMethod =
              io.grpc.MethodDescriptor.<org.openautoglm.v1.ListSessionsRequest, org.openautoglm.v1.ListSessionsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListSessions"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.ListSessionsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.ListSessionsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new MemoryServiceMethodDescriptorSupplier("ListSessions"))
              .build();
        }
      }
    }
    return getListSessionsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<org.openautoglm.v1.DeleteSessionRequest,
      org.openautoglm.v1.DeleteSessionResponse> getDeleteSessionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "DeleteSession",
      requestType = org.openautoglm.v1.DeleteSessionRequest.class,
      responseType = org.openautoglm.v1.DeleteSessionResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<org.openautoglm.v1.DeleteSessionRequest,
      org.openautoglm.v1.DeleteSessionResponse> getDeleteSessionMethod() {
    io.grpc.MethodDescriptor<org.openautoglm.v1.DeleteSessionRequest, org.openautoglm.v1.DeleteSessionResponse> getDeleteSessionMethod;
    if ((getDeleteSessionMethod = MemoryServiceGrpc.getDeleteSessionMethod) == null) {
      synchronized (MemoryServiceGrpc.class) {
        if ((getDeleteSessionMethod = MemoryServiceGrpc.getDeleteSessionMethod) == null) {
          MemoryServiceGrpc.getDeleteSessionMethod = getDeleteSessionMethod =
              io.grpc.MethodDescriptor.<org.openautoglm.v1.DeleteSessionRequest, org.openautoglm.v1.DeleteSessionResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "DeleteSession"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.DeleteSessionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.DeleteSessionResponse.getDefaultInstance()))
              .setSchemaDescriptor(new MemoryServiceMethodDescriptorSupplier("DeleteSession"))
              .build();
        }
      }
    }
    return getDeleteSessionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<org.openautoglm.v1.AddKnowledgeRequest,
      org.openautoglm.v1.AddKnowledgeResponse> getAddKnowledgeMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "AddKnowledge",
      requestType = org.openautoglm.v1.AddKnowledgeRequest.class,
      responseType = org.openautoglm.v1.AddKnowledgeResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<org.openautoglm.v1.AddKnowledgeRequest,
      org.openautoglm.v1.AddKnowledgeResponse> getAddKnowledgeMethod() {
    io.grpc.MethodDescriptor<org.openautoglm.v1.AddKnowledgeRequest, org.openautoglm.v1.AddKnowledgeResponse> getAddKnowledgeMethod;
    if ((getAddKnowledgeMethod = MemoryServiceGrpc.getAddKnowledgeMethod) == null) {
      synchronized (MemoryServiceGrpc.class) {
        if ((getAddKnowledgeMethod = MemoryServiceGrpc.getAddKnowledgeMethod) == null) {
          MemoryServiceGrpc.getAddKnowledgeMethod = getAddKnowledgeMethod =
              io.grpc.MethodDescriptor.<org.openautoglm.v1.AddKnowledgeRequest, org.openautoglm.v1.AddKnowledgeResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "AddKnowledge"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.AddKnowledgeRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.AddKnowledgeResponse.getDefaultInstance()))
              .setSchemaDescriptor(new MemoryServiceMethodDescriptorSupplier("AddKnowledge"))
              .build();
        }
      }
    }
    return getAddKnowledgeMethod;
  }

  private static volatile io.grpc.MethodDescriptor<org.openautoglm.v1.SearchKnowledgeRequest,
      org.openautoglm.v1.SearchKnowledgeResponse> getSearchKnowledgeMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "SearchKnowledge",
      requestType = org.openautoglm.v1.SearchKnowledgeRequest.class,
      responseType = org.openautoglm.v1.SearchKnowledgeResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<org.openautoglm.v1.SearchKnowledgeRequest,
      org.openautoglm.v1.SearchKnowledgeResponse> getSearchKnowledgeMethod() {
    io.grpc.MethodDescriptor<org.openautoglm.v1.SearchKnowledgeRequest, org.openautoglm.v1.SearchKnowledgeResponse> getSearchKnowledgeMethod;
    if ((getSearchKnowledgeMethod = MemoryServiceGrpc.getSearchKnowledgeMethod) == null) {
      synchronized (MemoryServiceGrpc.class) {
        if ((getSearchKnowledgeMethod = MemoryServiceGrpc.getSearchKnowledgeMethod) == null) {
          MemoryServiceGrpc.getSearchKnowledgeMethod = getSearchKnowledgeMethod =
              io.grpc.MethodDescriptor.<org.openautoglm.v1.SearchKnowledgeRequest, org.openautoglm.v1.SearchKnowledgeResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "SearchKnowledge"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.SearchKnowledgeRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.SearchKnowledgeResponse.getDefaultInstance()))
              .setSchemaDescriptor(new MemoryServiceMethodDescriptorSupplier("SearchKnowledge"))
              .build();
        }
      }
    }
    return getSearchKnowledgeMethod;
  }

  private static volatile io.grpc.MethodDescriptor<org.openautoglm.v1.DeleteKnowledgeRequest,
      org.openautoglm.v1.DeleteKnowledgeResponse> getDeleteKnowledgeMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "DeleteKnowledge",
      requestType = org.openautoglm.v1.DeleteKnowledgeRequest.class,
      responseType = org.openautoglm.v1.DeleteKnowledgeResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<org.openautoglm.v1.DeleteKnowledgeRequest,
      org.openautoglm.v1.DeleteKnowledgeResponse> getDeleteKnowledgeMethod() {
    io.grpc.MethodDescriptor<org.openautoglm.v1.DeleteKnowledgeRequest, org.openautoglm.v1.DeleteKnowledgeResponse> getDeleteKnowledgeMethod;
    if ((getDeleteKnowledgeMethod = MemoryServiceGrpc.getDeleteKnowledgeMethod) == null) {
      synchronized (MemoryServiceGrpc.class) {
        if ((getDeleteKnowledgeMethod = MemoryServiceGrpc.getDeleteKnowledgeMethod) == null) {
          MemoryServiceGrpc.getDeleteKnowledgeMethod = getDeleteKnowledgeMethod =
              io.grpc.MethodDescriptor.<org.openautoglm.v1.DeleteKnowledgeRequest, org.openautoglm.v1.DeleteKnowledgeResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "DeleteKnowledge"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.DeleteKnowledgeRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.DeleteKnowledgeResponse.getDefaultInstance()))
              .setSchemaDescriptor(new MemoryServiceMethodDescriptorSupplier("DeleteKnowledge"))
              .build();
        }
      }
    }
    return getDeleteKnowledgeMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static MemoryServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<MemoryServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<MemoryServiceStub>() {
        @java.lang.Override
        public MemoryServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new MemoryServiceStub(channel, callOptions);
        }
      };
    return MemoryServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static MemoryServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<MemoryServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<MemoryServiceBlockingStub>() {
        @java.lang.Override
        public MemoryServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new MemoryServiceBlockingStub(channel, callOptions);
        }
      };
    return MemoryServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static MemoryServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<MemoryServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<MemoryServiceFutureStub>() {
        @java.lang.Override
        public MemoryServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new MemoryServiceFutureStub(channel, callOptions);
        }
      };
    return MemoryServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Conversation sessions and the long-term knowledge cache.
   * </pre>
   */
  public static abstract class MemoryServiceImplBase implements io.grpc.BindableService {

    /**
     * <pre>
     * Returns a session with its messages.
     * </pre>
     */
    public void getSession(org.openautoglm.v1.GetSessionRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.GetSessionResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetSessionMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists the caller's sessions.
     * </pre>
     */
    public void listSessions(org.openautoglm.v1.ListSessionsRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.ListSessionsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListSessionsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Deletes a session and its messages.
     * </pre>
     */
    public void deleteSession(org.openautoglm.v1.DeleteSessionRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.DeleteSessionResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getDeleteSessionMethod(), responseObserver);
    }

    /**
     * <pre>
     * Adds a document or fact to the caller's knowledge cache.
     * </pre>
     */
    public void addKnowledge(org.openautoglm.v1.AddKnowledgeRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.AddKnowledgeResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getAddKnowledgeMethod(), responseObserver);
    }

    /**
     * <pre>
     * Finds the knowledge entries most similar to a query.
     * </pre>
     */
    public void searchKnowledge(org.openautoglm.v1.SearchKnowledgeRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.SearchKnowledgeResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getSearchKnowledgeMethod(), responseObserver);
    }

    /**
     * <pre>
     * Deletes a knowledge entry.
     * </pre>
     */
    public void deleteKnowledge(org.openautoglm.v1.DeleteKnowledgeRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.DeleteKnowledgeResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getDeleteKnowledgeMethod(), responseObserver);
    }

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
          .addMethod(
            getGetSessionMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                org.openautoglm.v1.GetSessionRequest,
                org.openautoglm.v1.GetSessionResponse>(
                  this, METHODID_GET_SESSION)))
          .addMethod(
            getListSessionsMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                org.openautoglm.v1.ListSessionsRequest,
                org.openautoglm.v1.ListSessionsResponse>(
                  this, METHODID_LIST_SESSIONS)))
          .addMethod(
            getDeleteSessionMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                org.openautoglm.v1.DeleteSessionRequest,
                org.openautoglm.v1.DeleteSessionResponse>(
                  this, METHODID_DELETE_SESSION)))
          .addMethod(
            getAddKnowledgeMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                org.openautoglm.v1.AddKnowledgeRequest,
                org.openautoglm.v1.AddKnowledgeResponse>(
                  this, METHODID_ADD_KNOWLEDGE)))
          .addMethod(
            getSearchKnowledgeMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                org.openautoglm.v1.SearchKnowledgeRequest,
                org.openautoglm.v1.SearchKnowledgeResponse>(
                  this, METHODID_SEARCH_KNOWLEDGE)))
          .addMethod(
            getDeleteKnowledgeMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                org.openautoglm.v1.DeleteKnowledgeRequest,
                org.openautoglm.v1.DeleteKnowledgeResponse>(
                  this, METHODID_DELETE_KNOWLEDGE)))
          .build();
    }
  }

  /**
   * <pre>
   * Conversation sessions and the long-term knowledge cache.
   * </pre>
   */
  public static final class MemoryServiceStub extends io.grpc.stub.AbstractAsyncStub<MemoryServiceStub> {
    private MemoryServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected MemoryServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new MemoryServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Returns a session with its messages.
     * </pre>
     */
    public void getSession(org.openautoglm.v1.GetSessionRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.GetSessionResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetSessionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists the caller's sessions.
     * </pre>
     */
    public void listSessions(org.openautoglm.v1.ListSessionsRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.ListSessionsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListSessionsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Deletes a session and its messages.
     * </pre>
     */
    public void deleteSession(org.openautoglm.v1.DeleteSessionRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.DeleteSessionResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getDeleteSessionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Adds a document or fact to the caller's knowledge cache.
     * </pre>
     */
    public void addKnowledge(org.openautoglm.v1.AddKnowledgeRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.AddKnowledgeResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getAddKnowledgeMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Finds the knowledge entries most similar to a query.
     * </pre>
     */
    public void searchKnowledge(org.openautoglm.v1.SearchKnowledgeRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.SearchKnowledgeResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getSearchKnowledgeMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Deletes a knowledge entry.
     * </pre>
     */
    public void deleteKnowledge(org.openautoglm.v1.DeleteKnowledgeRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.DeleteKnowledgeResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getDeleteKnowledgeMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * <pre>
   * Conversation sessions and the long-term knowledge cache.
   * </pre>
   */
  public static final class MemoryServiceBlockingStub extends io.grpc.stub.AbstractBlockingStub<MemoryServiceBlockingStub> {
    private MemoryServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected MemoryServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new MemoryServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Returns a session with its messages.
     * </pre>
     */
    public org.openautoglm.v1.GetSessionResponse getSession(org.openautoglm.v1.GetSessionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists the caller's sessions.
     * </pre>
     */
    public org.openautoglm.v1.ListSessionsResponse listSessions(org.openautoglm.v1.ListSessionsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListSessionsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes a session and its messages.
     * </pre>
     */
    public org.openautoglm.v1.DeleteSessionResponse deleteSession(org.openautoglm.v1.DeleteSessionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDeleteSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Adds a document or fact to the caller's knowledge cache.
     * </pre>
     */
    public org.openautoglm.v1.AddKnowledgeResponse addKnowledge(org.openautoglm.v1.AddKnowledgeRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getAddKnowledgeMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Finds the knowledge entries most similar to a query.
     * </pre>
     */
    public org.openautoglm.v1.SearchKnowledgeResponse searchKnowledge(org.openautoglm.v1.SearchKnowledgeRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getSearchKnowledgeMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes a knowledge entry.
     * </pre>
     */
    public org.openautoglm.v1.DeleteKnowledgeResponse deleteKnowledge(org.openautoglm.v1.DeleteKnowledgeRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDeleteKnowledgeMethod(), getCallOptions(), request);
    }
  }

  /**
   * <pre>
   * Conversation sessions and the long-term knowledge cache.
   * </pre>
   */
  public static final class MemoryServiceFutureStub extends io.grpc.stub.AbstractFutureStub<MemoryServiceFutureStub> {
    private MemoryServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected MemoryServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new MemoryServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Returns a session with its messages.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<org.openautoglm.v1.GetSessionResponse> getSession(
        org.openautoglm.v1.GetSessionRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetSessionMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists the caller's sessions.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<org.openautoglm.v1.ListSessionsResponse> listSessions(
        org.openautoglm.v1.ListSessionsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListSessionsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Deletes a session and its messages.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<org.openautoglm.v1.DeleteSessionResponse> deleteSession(
        org.openautoglm.v1.DeleteSessionRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getDeleteSessionMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Adds a document or fact to the caller's knowledge cache.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<org.openautoglm.v1.AddKnowledgeResponse> addKnowledge(
        org.openautoglm.v1.AddKnowledgeRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getAddKnowledgeMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Finds the knowledge entries most similar to a query.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<org.openautoglm.v1.SearchKnowledgeResponse> searchKnowledge(
        org.openautoglm.v1.SearchKnowledgeRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getSearchKnowledgeMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Deletes a knowledge entry.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<org.openautoglm.v1.DeleteKnowledgeResponse> deleteKnowledge(
        org.openautoglm.v1.DeleteKnowledgeRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getDeleteKnowledgeMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_GET_SESSION = 0;
  private static final int METHODID_LIST_SESSIONS = 1;
  private static final int METHODID_DELETE_SESSION = 2;
  private static final int METHODID_ADD_KNOWLEDGE = 3;
  private static final int METHODID_SEARCH_KNOWLEDGE = 4;
  private static final int METHODID_DELETE_KNOWLEDGE = 5;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final MemoryServiceImplBase serviceImpl;
    private final int methodId;

    MethodHandlers(MemoryServiceImplBase serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_GET_SESSION:
          serviceImpl.getSession((org.openautoglm.v1.GetSessionRequest) request,
              (io.grpc.stub.StreamObserver<org.openautoglm.v1.GetSessionResponse>) responseObserver);
          break;
        case METHODID_LIST_SESSIONS:
          serviceImpl.listSessions((org.openautoglm.v1.ListSessionsRequest) request,
              (io.grpc.stub.StreamObserver<org.openautoglm.v1.ListSessionsResponse>) responseObserver);
          break;
        case METHODID_DELETE_SESSION:
          serviceImpl.deleteSession((org.openautoglm.v1.DeleteSessionRequest) request,
              (io.grpc.stub.StreamObserver<org.openautoglm.v1.DeleteSessionResponse>) responseObserver);
          break;
        case METHODID_ADD_KNOWLEDGE:
          serviceImpl.addKnowledge((org.openautoglm.v1.AddKnowledgeRequest) request,
              (io.grpc.stub.StreamObserver<org.openautoglm.v1.AddKnowledgeResponse>) responseObserver);
          break;
        case METHODID_SEARCH_KNOWLEDGE:
          serviceImpl.searchKnowledge((org.openautoglm.v1.SearchKnowledgeRequest) request,
              (io.grpc.stub.StreamObserver<org.openautoglm.v1.SearchKnowledgeResponse>) responseObserver);
          break;
        case METHODID_DELETE_KNOWLEDGE:
          serviceImpl.deleteKnowledge((org.openautoglm.v1.DeleteKnowledgeRequest) request,
              (io.grpc.stub.StreamObserver<org.openautoglm.v1.DeleteKnowledgeResponse>) responseObserver);
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

  private static abstract class MemoryServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    MemoryServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return org.openautoglm.v1.MemoryProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("MemoryService");
    }
  }

  private static final class MemoryServiceFileDescriptorSupplier
      extends MemoryServiceBaseDescriptorSupplier {
    MemoryServiceFileDescriptorSupplier() {}
  }

  private static final class MemoryServiceMethodDescriptorSupplier
      extends MemoryServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final String methodName;

    MemoryServiceMethodDescriptorSupplier(String methodName) {
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
      synchronized (MemoryServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new MemoryServiceFileDescriptorSupplier())
              .addMethod(getGetSessionMethod())
              .addMethod(getListSessionsMethod())
              .addMethod(getDeleteSessionMethod())
              .addMethod(getAddKnowledgeMethod())
              .addMethod(getSearchKnowledgeMethod())
              .addMethod(getDeleteKnowledgeMethod())
              .build();
        }
      }
    }
    return result;
  }
}
