package org.openautoglm.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Text generation with a language model.
 * </pre>
 */
@javax.annotation.Generated(
    value = "by gRPC proto compiler",
    comments = "Source: autoglm/v1/generation.proto")
@io.grpc.stub.annotations.GrpcGenerated
public final class GenerationServiceGrpc {

  private GenerationServiceGrpc() {}

  public static final String SERVICE_NAME = "autoglm.v1.GenerationService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<org.openautoglm.v1.GenerateRequest,
      org.openautoglm.v1.GenerateResponse> getGenerateMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Generate",
      requestType = org.openautoglm.v1.GenerateRequest.class,
      responseType = org.openautoglm.v1.GenerateResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<org.openautoglm.v1.GenerateRequest,
      org.openautoglm.v1.GenerateResponse> getGenerateMethod() {
    io.grpc.MethodDescriptor<org.openautoglm.v1.GenerateRequest, org.openautoglm.v1.GenerateResponse> getGenerateMethod;
    if ((getGenerateMethod = GenerationServiceGrpc.getGenerateMethod) == null) {
      synchronized (GenerationServiceGrpc.class) {
        if ((getGenerateMethod = GenerationServiceGrpc.getGenerateMethod) == null) {
          GenerationServiceGrpc.getGenerateMethod = getGenerateMethod =
              io.grpc.MethodDescriptor.<org.openautoglm.v1.GenerateRequest, org.openautoglm.v1.GenerateResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Generate"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.GenerateRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.GenerateResponse.getDefaultInstance()))
              .setSchemaDescriptor(new GenerationServiceMethodDescriptorSupplier("Generate"))
              .build();
        }
      }
    }
    return getGenerateMethod;
  }

  private static volatile io.grpc.MethodDescriptor<org.openautoglm.v1.GenerateStreamRequest,
      org.openautoglm.v1.GenerateStreamResponse> getGenerateStreamMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GenerateStream",
      requestType = org.openautoglm.v1.GenerateStreamRequest.class,
      responseType = org.openautoglm.v1.GenerateStreamResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
  public static io.grpc.MethodDescriptor<org.openautoglm.v1.GenerateStreamRequest,
      org.openautoglm.v1.GenerateStreamResponse> getGenerateStreamMethod() {
    io.grpc.MethodDescriptor<org.openautoglm.v1.GenerateStreamRequest, org.openautoglm.v1.GenerateStreamResponse> getGenerateStreamMethod;
    if ((getGenerateStreamMethod = GenerationServiceGrpc.getGenerateStreamMethod) == null) {
      synchronized (GenerationServiceGrpc.class) {
        if ((getGenerateStreamMethod = GenerationServiceGrpc.getGenerateStreamMethod) == null) {
          GenerationServiceGrpc.getGenerateStreamMethod = getGenerateStreamMethod =
              io.grpc.MethodDescriptor.<org.openautoglm.v1.GenerateStreamRequest, org.openautoglm.v1.GenerateStreamResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GenerateStream"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.GenerateStreamRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.GenerateStreamResponse.getDefaultInstance()))
              .setSchemaDescriptor(new GenerationServiceMethodDescriptorSupplier("GenerateStream"))
              .build();
        }
      }
    }
    return getGenerateStreamMethod;
  }

  private static volatile io.grpc.MethodDescriptor<org.openautoglm.v1.TokenizeRequest,
      org.openautoglm.v1.TokenizeResponse> getTokenizeMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Tokenize",
      requestType = org.openautoglm.v1.TokenizeRequest.class,
      responseType = org.openautoglm.v1.TokenizeResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<org.openautoglm.v1.TokenizeRequest,
      org.openautoglm.v1.TokenizeResponse> getTokenizeMethod() {
    io.grpc.MethodDescriptor<org.openautoglm.v1.TokenizeRequest, org.openautoglm.v1.TokenizeResponse> getTokenizeMethod;
    if ((getTokenizeMethod = GenerationServiceGrpc.getTokenizeMethod) == null) {
      synchronized (GenerationServiceGrpc.class) {
        if ((getTokenizeMethod = GenerationServiceGrpc.getTokenizeMethod) == null) {
          GenerationServiceGrpc.getTokenizeMethod = getTokenizeMethod =
              io.grpc.MethodDescriptor.<org.openautoglm.v1.TokenizeRequest, org.openautoglm.v1.TokenizeResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Tokenize"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.TokenizeRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.TokenizeResponse.getDefaultInstance()))
              .setSchemaDescriptor(new GenerationServiceMethodDescriptorSupplier("Tokenize"))
              .build();
        }
      }
    }
    return getTokenizeMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static GenerationServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<GenerationServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<GenerationServiceStub>() {
        @java.lang.Override
        public GenerationServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new GenerationServiceStub(channel, callOptions);
        }
      };
    return GenerationServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static GenerationServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<GenerationServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<GenerationServiceBlockingStub>() {
        @java.lang.Override
        public GenerationServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new GenerationServiceBlockingStub(channel, callOptions);
        }
      };
    return GenerationServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static GenerationServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<GenerationServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<GenerationServiceFutureStub>() {
        @java.lang.Override
        public GenerationServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new GenerationServiceFutureStub(channel, callOptions);
        }
      };
    return GenerationServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Text generation with a language model.
   * </pre>
   */
  public static abstract class GenerationServiceImplBase implements io.grpc.BindableService {

    /**
     * <pre>
     * Generates a complete response in one reply.
     * </pre>
     */
    public void generate(org.openautoglm.v1.GenerateRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.GenerateResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGenerateMethod(), responseObserver);
    }

    /**
     * <pre>
     * Generates a response as a stream of typed events, ending with a finished event.
     * </pre>
     */
    public void generateStream(org.openautoglm.v1.GenerateStreamRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.GenerateStreamResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGenerateStreamMethod(), responseObserver);
    }

    /**
     * <pre>
     * Converts text or chat messages into the model's token ids.
     * </pre>
     */
    public void tokenize(org.openautoglm.v1.TokenizeRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.TokenizeResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getTokenizeMethod(), responseObserver);
    }

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
          .addMethod(
            getGenerateMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                org.openautoglm.v1.GenerateRequest,
                org.openautoglm.v1.GenerateResponse>(
                  this, METHODID_GENERATE)))
          .addMethod(
            getGenerateStreamMethod(),
            io.grpc.stub.ServerCalls.asyncServerStreamingCall(
              new MethodHandlers<
                org.openautoglm.v1.GenerateStreamRequest,
                org.openautoglm.v1.GenerateStreamResponse>(
                  this, METHODID_GENERATE_STREAM)))
          .addMethod(
            getTokenizeMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                org.openautoglm.v1.TokenizeRequest,
                org.openautoglm.v1.TokenizeResponse>(
                  this, METHODID_TOKENIZE)))
          .build();
    }
  }

  /**
   * <pre>
   * Text generation with a language model.
   * </pre>
   */
  public static final class GenerationServiceStub extends io.grpc.stub.AbstractAsyncStub<GenerationServiceStub> {
    private GenerationServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected GenerationServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new GenerationServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Generates a complete response in one reply.
     * </pre>
     */
    public void generate(org.openautoglm.v1.GenerateRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.GenerateResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGenerateMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Generates a response as a stream of typed events, ending with a finished event.
     * </pre>
     */
    public void generateStream(org.openautoglm.v1.GenerateStreamRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.GenerateStreamResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncServerStreamingCall(
          getChannel().newCall(getGenerateStreamMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Converts text or chat messages into the model's token ids.
     * </pre>
     */
    public void tokenize(org.openautoglm.v1.TokenizeRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.TokenizeResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getTokenizeMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * <pre>
   * Text generation with a language model.
   * </pre>
   */
  public static final class GenerationServiceBlockingStub extends io.grpc.stub.AbstractBlockingStub<GenerationServiceBlockingStub> {
    private GenerationServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected GenerationServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new GenerationServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Generates a complete response in one reply.
     * </pre>
     */
    public org.openautoglm.v1.GenerateResponse generate(org.openautoglm.v1.GenerateRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGenerateMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Generates a response as a stream of typed events, ending with a finished event.
     * </pre>
     */
    public java.util.Iterator<org.openautoglm.v1.GenerateStreamResponse> generateStream(
        org.openautoglm.v1.GenerateStreamRequest request) {
      return io.grpc.stub.ClientCalls.blockingServerStreamingCall(
          getChannel(), getGenerateStreamMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Converts text or chat messages into the model's token ids.
     * </pre>
     */
    public org.openautoglm.v1.TokenizeResponse tokenize(org.openautoglm.v1.TokenizeRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getTokenizeMethod(), getCallOptions(), request);
    }
  }

  /**
   * <pre>
   * Text generation with a language model.
   * </pre>
   */
  public static final class GenerationServiceFutureStub extends io.grpc.stub.AbstractFutureStub<GenerationServiceFutureStub> {
    private GenerationServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected GenerationServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new GenerationServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Generates a complete response in one reply.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<org.openautoglm.v1.GenerateResponse> generate(
        org.openautoglm.v1.GenerateRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGenerateMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Converts text or chat messages into the model's token ids.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<org.openautoglm.v1.TokenizeResponse> tokenize(
        org.openautoglm.v1.TokenizeRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getTokenizeMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_GENERATE = 0;
  private static final int METHODID_GENERATE_STREAM = 1;
  private static final int METHODID_TOKENIZE = 2;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final GenerationServiceImplBase serviceImpl;
    private final int methodId;

    MethodHandlers(GenerationServiceImplBase serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_GENERATE:
          serviceImpl.generate((org.openautoglm.v1.GenerateRequest) request,
              (io.grpc.stub.StreamObserver<org.openautoglm.v1.GenerateResponse>) responseObserver);
          break;
        case METHODID_GENERATE_STREAM:
          serviceImpl.generateStream((org.openautoglm.v1.GenerateStreamRequest) request,
              (io.grpc.stub.StreamObserver<org.openautoglm.v1.GenerateStreamResponse>) responseObserver);
          break;
        case METHODID_TOKENIZE:
          serviceImpl.tokenize((org.openautoglm.v1.TokenizeRequest) request,
              (io.grpc.stub.StreamObserver<org.openautoglm.v1.TokenizeResponse>) responseObserver);
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

  private static abstract class GenerationServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    GenerationServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return org.openautoglm.v1.GenerationProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("GenerationService");
    }
  }

  private static final class GenerationServiceFileDescriptorSupplier
      extends GenerationServiceBaseDescriptorSupplier {
    GenerationServiceFileDescriptorSupplier() {}
  }

  private static final class GenerationServiceMethodDescriptorSupplier
      extends GenerationServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final String methodName;

    GenerationServiceMethodDescriptorSupplier(String methodName) {
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
      synchronized (GenerationServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new GenerationServiceFileDescriptorSupplier())
              .addMethod(getGenerateMethod())
              .addMethod(getGenerateStreamMethod())
              .addMethod(getTokenizeMethod())
              .build();
        }
      }
    }
    return result;
  }
}
