package org.openautoglm.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Model management: listing, loading and traffic between versions.
 * </pre>
 */
@javax.annotation.Generated(
    value = "by gRPC proto compiler",
    comments = "Source: autoglm/v1/model.proto")
@io.grpc.stub.annotations.GrpcGenerated
public final class ModelServiceGrpc {

  private ModelServiceGrpc() {}

  public static final String SERVICE_NAME = "autoglm.v1.ModelService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<org.openautoglm.v1.ListModelsRequest,
      org.openautoglm.v1.ListModelsResponse> getListModelsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListModels",
      requestType = org.openautoglm.v1.ListModelsRequest.class,
      responseType = org.openautoglm.v1.ListModelsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<org.openautoglm.v1.ListModelsRequest,
      org.openautoglm.v1.ListModelsResponse> getListModelsMethod() {
    io.grpc.MethodDescriptor<org.openautoglm.v1.ListModelsRequest, org.openautoglm.v1.ListModelsResponse> getListModelsMethod;
    if ((getListModelsMethod = ModelServiceGrpc.getListModelsMethod) == null) {
      synchronized (ModelServiceGrpc.class) {
        if ((getListModelsMethod = ModelServiceGrpc.getListModelsMethod) == null) {
          ModelServiceGrpc.getListModelsMethod = getListModelsMethod =
              io.grpc.MethodDescriptor.<org.openautoglm.v1.ListModelsRequest, org.openautoglm.v1.ListModelsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListModels"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.ListModelsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.ListModelsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ModelServiceMethodDescriptorSupplier("ListModels"))
              .build();
        }
      }
    }
    return getListModelsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<org.openautoglm.v1.GetModelRequest,
      org.openautoglm.v1.GetModelResponse> getGetModelMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetModel",
      requestType = org.openautoglm.v1.GetModelRequest.class,
      responseType = org.openautoglm.v1.GetModelResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<org.openautoglm.v1.GetModelRequest,
      org.openautoglm.v1.GetModelResponse> getGetModelMethod() {
    io.grpc.MethodDescriptor<org.openautoglm.v1.GetModelRequest, org.openautoglm.v1.GetModelResponse> getGetModelMethod;
    if ((getGetModelMethod = ModelServiceGrpc.getGetModelMethod) == null) {
      synchronized (ModelServiceGrpc.class) {
        if ((getGetModelMethod = ModelServiceGrpc.getGetModelMethod) == null) {
          ModelServiceGrpc.getGetModelMethod = getGetModelMethod =
              io.grpc.MethodDescriptor.<org.openautoglm.v1.GetModelRequest, org.openautoglm.v1.GetModelResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetModel"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.GetModelRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.GetModelResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ModelServiceMethodDescriptorSupplier("GetModel"))
              .build();
        }
      }
    }
    return getGetModelMethod;
  }

  private static volatile io.grpc.MethodDescriptor<org.openautoglm.v1.LoadModelRequest,
      org.openautoglm.v1.LoadModelResponse> getLoadModelMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "LoadModel",
      requestType = org.openautoglm.v1.LoadModelRequest.class,
      responseType = org.openautoglm.v1.LoadModelResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<org.openautoglm.v1.LoadModelRequest,
      org.openautoglm.v1.LoadModelResponse> getLoadModelMethod() {
    io.grpc.MethodDescriptor<org.openautoglm.v1.LoadModelRequest, org.openautoglm.v1.LoadModelResponse> getLoadModelMethod;
    if ((getLoadModelMethod = ModelServiceGrpc.getLoadModelMethod) == null) {
      synchronized (ModelServiceGrpc.class) {
        if ((getLoadModelMethod = ModelServiceGrpc.getLoadModelMethod) == null) {
          ModelServiceGrpc.getLoadModelMethod = getLoadModelMethod =
              io.grpc.MethodDescriptor.<org.openautoglm.v1.LoadModelRequest, org.openautoglm.v1.LoadModelResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "LoadModel"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.LoadModelRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.LoadModelResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ModelServiceMethodDescriptorSupplier("LoadModel"))
              .build();
        }
      }
    }
    return getLoadModelMethod;
  }

  private static volatile io.grpc.MethodDescriptor<org.openautoglm.v1.UnloadModelRequest,
      org.openautoglm.v1.UnloadModelResponse> getUnloadModelMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "UnloadModel",
      requestType = org.openautoglm.v1.UnloadModelRequest.class,
      responseType = org.openautoglm.v1.UnloadModelResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<org.openautoglm.v1.UnloadModelRequest,
      org.openautoglm.v1.UnloadModelResponse> getUnloadModelMethod() {
    io.grpc.MethodDescriptor<org.openautoglm.v1.UnloadModelRequest, org.openautoglm.v1.UnloadModelResponse> getUnloadModelMethod;
    if ((getUnloadModelMethod = ModelServiceGrpc.getUnloadModelMethod) == null) {
      synchronized (ModelServiceGrpc.class) {
        if ((getUnloadModelMethod = ModelServiceGrpc.getUnloadModelMethod) == null) {
          ModelServiceGrpc.getUnloadModelMethod = getUnloadModelMethod =
              io.grpc.MethodDescriptor.<org.openautoglm.v1.UnloadModelRequest, org.openautoglm.v1.UnloadModelResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "UnloadModel"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.UnloadModelRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.UnloadModelResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ModelServiceMethodDescriptorSupplier("UnloadModel"))
              .build();
        }
      }
    }
    return getUnloadModelMethod;
  }

  private static volatile io.grpc.MethodDescriptor<org.openautoglm.v1.SetTrafficSplitRequest,
      org.openautoglm.v1.SetTrafficSplitResponse> getSetTrafficSplitMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "SetTrafficSplit",
      requestType = org.openautoglm.v1.SetTrafficSplitRequest.class,
      responseType = org.openautoglm.v1.SetTrafficSplitResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<org.openautoglm.v1.SetTrafficSplitRequest,
      org.openautoglm.v1.SetTrafficSplitResponse> getSetTrafficSplitMethod() {
    io.grpc.MethodDescriptor<org.openautoglm.v1.SetTrafficSplitRequest, org.openautoglm.v1.SetTrafficSplitResponse> getSetTrafficSplitMethod;
    if ((getSetTrafficSplitMethod = ModelServiceGrpc.getSetTrafficSplitMethod) == null) {
      synchronized (ModelServiceGrpc.class) {
        if ((getSetTrafficSplitMethod = ModelServiceGrpc.getSetTrafficSplitMethod) == null) {
          ModelServiceGrpc.getSetTrafficSplitMethod = getSetTrafficSplitMethod =
              io.grpc.MethodDescriptor.<org.openautoglm.v1.SetTrafficSplitRequest, org.openautoglm.v1.SetTrafficSplitResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "SetTrafficSplit"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.SetTrafficSplitRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.SetTrafficSplitResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ModelServiceMethodDescriptorSupplier("SetTrafficSplit"))
              .build();
        }
      }
    }
    return getSetTrafficSplitMethod;
  }

  private static volatile io.grpc.MethodDescriptor<org.openautoglm.v1.PromoteModelVersionRequest,
      org.openautoglm.v1.PromoteModelVersionResponse> getPromoteModelVersionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "PromoteModelVersion",
      requestType = org.openautoglm.v1.PromoteModelVersionRequest.class,
      responseType = org.openautoglm.v1.PromoteModelVersionResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<org.openautoglm.v1.PromoteModelVersionRequest,
      org.openautoglm.v1.PromoteModelVersionResponse> getPromoteModelVersionMethod() {
    io.grpc.MethodDescriptor<org.openautoglm.v1.PromoteModelVersionRequest, org.openautoglm.v1.PromoteModelVersionResponse> getPromoteModelVersionMethod;
    if ((getPromoteModelVersionMethod = ModelServiceGrpc.getPromoteModelVersionMethod) == null) {
      synchronized (ModelServiceGrpc.class) {
        if ((getPromoteModelVersionMethod = ModelServiceGrpc.getPromoteModelVersionMethod) == null) {
          ModelServiceGrpc.getPromoteModelVersionMethod = getPromoteModelVersionMethod =
              io.grpc.MethodDescriptor.<org.openautoglm.v1.PromoteModelVersionRequest, org.openautoglm.v1.PromoteModelVersionResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "PromoteModelVersion"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.PromoteModelVersionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.PromoteModelVersionResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ModelServiceMethodDescriptorSupplier("PromoteModelVersion"))
              .build();
        }
      }
    }
    return getPromoteModelVersionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<org.openautoglm.v1.RollbackTrafficSplitRequest,
      org.openautoglm.v1.RollbackTrafficSplitResponse> getRollbackTrafficSplitMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "RollbackTrafficSplit",
      requestType = org.openautoglm.v1.RollbackTrafficSplitRequest.class,
      responseType = org.openautoglm.v1.RollbackTrafficSplitResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<org.openautoglm.v1.RollbackTrafficSplitRequest,
      org.openautoglm.v1.RollbackTrafficSplitResponse> getRollbackTrafficSplitMethod() {
    io.grpc.MethodDescriptor<org.openautoglm.v1.RollbackTrafficSplitRequest, org.openautoglm.v1.RollbackTrafficSplitResponse> getRollbackTrafficSplitMethod;
    if ((getRollbackTrafficSplitMethod = ModelServiceGrpc.getRollbackTrafficSplitMethod) == null) {
      synchronized (ModelServiceGrpc.class) {
        if ((getRollbackTrafficSplitMethod = ModelServiceGrpc.getRollbackTrafficSplitMethod) == null) {
          ModelServiceGrpc.getRollbackTrafficSplitMethod = getRollbackTrafficSplitMethod =
              io.grpc.MethodDescriptor.<org.openautoglm.v1.RollbackTrafficSplitRequest, org.openautoglm.v1.RollbackTrafficSplitResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "RollbackTrafficSplit"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.RollbackTrafficSplitRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.RollbackTrafficSplitResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ModelServiceMethodDescriptorSupplier("RollbackTrafficSplit"))
              .build();
        }
      }
    }
    return getRollbackTrafficSplitMethod;
  }

  private static volatile io.grpc.MethodDescriptor<org.openautoglm.v1.LoadAdapterRequest,
      org.openautoglm.v1.LoadAdapterResponse> getLoadAdapterMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "LoadAdapter",
      requestType = org.openautoglm.v1.LoadAdapterRequest.class,
      responseType = org.openautoglm.v1.LoadAdapterResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<org.openautoglm.v1.LoadAdapterRequest,
      org.openautoglm.v1.LoadAdapterResponse> getLoadAdapterMethod() {
    io.grpc.MethodDescriptor<org.openautoglm.v1.LoadAdapterRequest, org.openautoglm.v1.LoadAdapterResponse> getLoadAdapterMethod;
    if ((getLoadAdapterMethod = ModelServiceGrpc.getLoadAdapterMethod) == null) {
      synchronized (ModelServiceGrpc.class) {
        if ((getLoadAdapterMethod = ModelServiceGrpc.getLoadAdapterMethod) == null) {
          ModelServiceGrpc.getLoadAdapterMethod = getLoadAdapterMethod =
              io.grpc.MethodDescriptor.<org.openautoglm.v1.LoadAdapterRequest, org.openautoglm.v1.LoadAdapterResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "LoadAdapter"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.LoadAdapterRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.LoadAdapterResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ModelServiceMethodDescriptorSupplier("LoadAdapter"))
              .build();
        }
      }
    }
    return getLoadAdapterMethod;
  }

  private static volatile io.grpc.MethodDescriptor<org.openautoglm.v1.ListAdaptersRequest,
      org.openautoglm.v1.ListAdaptersResponse> getListAdaptersMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListAdapters",
      requestType = org.openautoglm.v1.ListAdaptersRequest.class,
      responseType = org.openautoglm.v1.ListAdaptersResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<org.openautoglm.v1.ListAdaptersRequest,
      org.openautoglm.v1.ListAdaptersResponse> getListAdaptersMethod() {
    io.grpc.MethodDescriptor<org.openautoglm.v1.ListAdaptersRequest, org.openautoglm.v1.ListAdaptersResponse> getListAdaptersMethod;
    if ((getListAdaptersMethod = ModelServiceGrpc.getListAdaptersMethod) == null) {
      synchronized (ModelServiceGrpc.class) {
        if ((getListAdaptersMethod = ModelServiceGrpc.getListAdaptersMethod) == null) {
          ModelServiceGrpc.getListAdaptersMethod = getListAdaptersMethod =
              io.grpc.MethodDescriptor.<org.openautoglm.v1.ListAdaptersRequest, org.openautoglm.v1.ListAdaptersResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListAdapters"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.ListAdaptersRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.ListAdaptersResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ModelServiceMethodDescriptorSupplier("ListAdapters"))
              .build();
        }
      }
    }
    return getListAdaptersMethod;
  }

  private static volatile io.grpc.MethodDescriptor<org.openautoglm.v1.UnloadAdapterRequest,
      org.openautoglm.v1.UnloadAdapterResponse> getUnloadAdapterMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "UnloadAdapter",
      requestType = org.openautoglm.v1.UnloadAdapterRequest.class,
      responseType = org.openautoglm.v1.UnloadAdapterResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<org.openautoglm.v1.UnloadAdapterRequest,
      org.openautoglm.v1.UnloadAdapterResponse> getUnloadAdapterMethod() {
    io.grpc.MethodDescriptor<org.openautoglm.v1.UnloadAdapterRequest, org.openautoglm.v1.UnloadAdapterResponse> getUnloadAdapterMethod;
    if ((getUnloadAdapterMethod = ModelServiceGrpc.getUnloadAdapterMethod) == null) {
      synchronized (ModelServiceGrpc.class) {
        if ((getUnloadAdapterMethod = ModelServiceGrpc.getUnloadAdapterMethod) == null) {
          ModelServiceGrpc.getUnloadAdapterMethod = getUnloadAdapterMethod =
              io.grpc.MethodDescriptor.<org.openautoglm.v1.UnloadAdapterRequest, org.openautoglm.v1.UnloadAdapterResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "UnloadAdapter"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.UnloadAdapterRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  org.openautoglm.v1.UnloadAdapterResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ModelServiceMethodDescriptorSupplier("UnloadAdapter"))
              .build();
        }
      }
    }
    return getUnloadAdapterMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static ModelServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<ModelServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<ModelServiceStub>() {
        @java.lang.Override
        public ModelServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new ModelServiceStub(channel, callOptions);
        }
      };
    return ModelServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static ModelServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<ModelServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<ModelServiceBlockingStub>() {
        @java.lang.Override
        public ModelServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new ModelServiceBlockingStub(channel, callOptions);
        }
      };
    return ModelServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static ModelServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<ModelServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<ModelServiceFutureStub>() {
        @java.lang.Override
        public ModelServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new ModelServiceFutureStub(channel, callOptions);
        }
      };
    return ModelServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Model management: listing, loading and traffic between versions.
   * </pre>
   */
  public static abstract class ModelServiceImplBase implements io.grpc.BindableService {

    /**
     * <pre>
     * Lists the models the server knows, with their versions.
     * </pre>
     */
    public void listModels(org.openautoglm.v1.ListModelsRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.ListModelsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListModelsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Returns one model by alias or name.
     * </pre>
     */
    public void getModel(org.openautoglm.v1.GetModelRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.GetModelResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetModelMethod(), responseObserver);
    }

    /**
     * <pre>
     * Loads a model version from a local path or a known alias.
     * </pre>
     */
    public void loadModel(org.openautoglm.v1.LoadModelRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.LoadModelResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getLoadModelMethod(), responseObserver);
    }

    /**
     * <pre>
     * Unloads a model version after its in-flight calls finish.
     * </pre>
     */
    public void unloadModel(org.openautoglm.v1.UnloadModelRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.UnloadModelResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getUnloadModelMethod(), responseObserver);
    }

    /**
     * <pre>
     * Sets the share of traffic each version of a model receives.
     * </pre>
     */
    public void setTrafficSplit(org.openautoglm.v1.SetTrafficSplitRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.SetTrafficSplitResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getSetTrafficSplitMethod(), responseObserver);
    }

    /**
     * <pre>
     * Sends all traffic of a model to one version (the end of a successful canary).
     * </pre>
     */
    public void promoteModelVersion(org.openautoglm.v1.PromoteModelVersionRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.PromoteModelVersionResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getPromoteModelVersionMethod(), responseObserver);
    }

    /**
     * <pre>
     * Restores the traffic split that was in force before the last change.
     * </pre>
     */
    public void rollbackTrafficSplit(org.openautoglm.v1.RollbackTrafficSplitRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.RollbackTrafficSplitResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getRollbackTrafficSplitMethod(), responseObserver);
    }

    /**
     * <pre>
     * Loads an adapter (LoRA in peft's format, or a bottleneck adapter) onto a loaded model version
     * from a local directory.
     * </pre>
     */
    public void loadAdapter(org.openautoglm.v1.LoadAdapterRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.LoadAdapterResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getLoadAdapterMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists the adapters loaded on a model's versions.
     * </pre>
     */
    public void listAdapters(org.openautoglm.v1.ListAdaptersRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.ListAdaptersResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListAdaptersMethod(), responseObserver);
    }

    /**
     * <pre>
     * Unloads an adapter after its in-flight calls finish.
     * </pre>
     */
    public void unloadAdapter(org.openautoglm.v1.UnloadAdapterRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.UnloadAdapterResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getUnloadAdapterMethod(), responseObserver);
    }

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
          .addMethod(
            getListModelsMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                org.openautoglm.v1.ListModelsRequest,
                org.openautoglm.v1.ListModelsResponse>(
                  this, METHODID_LIST_MODELS)))
          .addMethod(
            getGetModelMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                org.openautoglm.v1.GetModelRequest,
                org.openautoglm.v1.GetModelResponse>(
                  this, METHODID_GET_MODEL)))
          .addMethod(
            getLoadModelMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                org.openautoglm.v1.LoadModelRequest,
                org.openautoglm.v1.LoadModelResponse>(
                  this, METHODID_LOAD_MODEL)))
          .addMethod(
            getUnloadModelMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                org.openautoglm.v1.UnloadModelRequest,
                org.openautoglm.v1.UnloadModelResponse>(
                  this, METHODID_UNLOAD_MODEL)))
          .addMethod(
            getSetTrafficSplitMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                org.openautoglm.v1.SetTrafficSplitRequest,
                org.openautoglm.v1.SetTrafficSplitResponse>(
                  this, METHODID_SET_TRAFFIC_SPLIT)))
          .addMethod(
            getPromoteModelVersionMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                org.openautoglm.v1.PromoteModelVersionRequest,
                org.openautoglm.v1.PromoteModelVersionResponse>(
                  this, METHODID_PROMOTE_MODEL_VERSION)))
          .addMethod(
            getRollbackTrafficSplitMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                org.openautoglm.v1.RollbackTrafficSplitRequest,
                org.openautoglm.v1.RollbackTrafficSplitResponse>(
                  this, METHODID_ROLLBACK_TRAFFIC_SPLIT)))
          .addMethod(
            getLoadAdapterMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                org.openautoglm.v1.LoadAdapterRequest,
                org.openautoglm.v1.LoadAdapterResponse>(
                  this, METHODID_LOAD_ADAPTER)))
          .addMethod(
            getListAdaptersMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                org.openautoglm.v1.ListAdaptersRequest,
                org.openautoglm.v1.ListAdaptersResponse>(
                  this, METHODID_LIST_ADAPTERS)))
          .addMethod(
            getUnloadAdapterMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                org.openautoglm.v1.UnloadAdapterRequest,
                org.openautoglm.v1.UnloadAdapterResponse>(
                  this, METHODID_UNLOAD_ADAPTER)))
          .build();
    }
  }

  /**
   * <pre>
   * Model management: listing, loading and traffic between versions.
   * </pre>
   */
  public static final class ModelServiceStub extends io.grpc.stub.AbstractAsyncStub<ModelServiceStub> {
    private ModelServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected ModelServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new ModelServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Lists the models the server knows, with their versions.
     * </pre>
     */
    public void listModels(org.openautoglm.v1.ListModelsRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.ListModelsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListModelsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Returns one model by alias or name.
     * </pre>
     */
    public void getModel(org.openautoglm.v1.GetModelRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.GetModelResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetModelMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Loads a model version from a local path or a known alias.
     * </pre>
     */
    public void loadModel(org.openautoglm.v1.LoadModelRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.LoadModelResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getLoadModelMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Unloads a model version after its in-flight calls finish.
     * </pre>
     */
    public void unloadModel(org.openautoglm.v1.UnloadModelRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.UnloadModelResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getUnloadModelMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Sets the share of traffic each version of a model receives.
     * </pre>
     */
    public void setTrafficSplit(org.openautoglm.v1.SetTrafficSplitRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.SetTrafficSplitResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getSetTrafficSplitMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Sends all traffic of a model to one version (the end of a successful canary).
     * </pre>
     */
    public void promoteModelVersion(org.openautoglm.v1.PromoteModelVersionRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.PromoteModelVersionResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getPromoteModelVersionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Restores the traffic split that was in force before the last change.
     * </pre>
     */
    public void rollbackTrafficSplit(org.openautoglm.v1.RollbackTrafficSplitRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.RollbackTrafficSplitResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getRollbackTrafficSplitMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Loads an adapter (LoRA in peft's format, or a bottleneck adapter) onto a loaded model version
     * from a local directory.
     * </pre>
     */
    public void loadAdapter(org.openautoglm.v1.LoadAdapterRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.LoadAdapterResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getLoadAdapterMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists the adapters loaded on a model's versions.
     * </pre>
     */
    public void listAdapters(org.openautoglm.v1.ListAdaptersRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.ListAdaptersResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListAdaptersMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Unloads an adapter after its in-flight calls finish.
     * </pre>
     */
    public void unloadAdapter(org.openautoglm.v1.UnloadAdapterRequest request,
        io.grpc.stub.StreamObserver<org.openautoglm.v1.UnloadAdapterResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getUnloadAdapterMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * <pre>
   * Model management: listing, loading and traffic between versions.
   * </pre>
   */
  public static final class ModelServiceBlockingStub extends io.grpc.stub.AbstractBlockingStub<ModelServiceBlockingStub> {
    private ModelServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected ModelServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new ModelServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Lists the models the server knows, with their versions.
     * </pre>
     */
    public org.openautoglm.v1.ListModelsResponse listModels(org.openautoglm.v1.ListModelsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListModelsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns one model by alias or name.
     * </pre>
     */
    public org.openautoglm.v1.GetModelResponse getModel(org.openautoglm.v1.GetModelRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetModelMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Loads a model version from a local path or a known alias.
     * </pre>
     */
    public org.openautoglm.v1.LoadModelResponse loadModel(org.openautoglm.v1.LoadModelRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getLoadModelMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Unloads a model version after its in-flight calls finish.
     * </pre>
     */
    public org.openautoglm.v1.UnloadModelResponse unloadModel(org.openautoglm.v1.UnloadModelRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getUnloadModelMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Sets the share of traffic each version of a model receives.
     * </pre>
     */
    public org.openautoglm.v1.SetTrafficSplitResponse setTrafficSplit(org.openautoglm.v1.SetTrafficSplitRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getSetTrafficSplitMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Sends all traffic of a model to one version (the end of a successful canary).
     * </pre>
     */
    public org.openautoglm.v1.PromoteModelVersionResponse promoteModelVersion(org.openautoglm.v1.PromoteModelVersionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getPromoteModelVersionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Restores the traffic split that was in force before the last change.
     * </pre>
     */
    public org.openautoglm.v1.RollbackTrafficSplitResponse rollbackTrafficSplit(org.openautoglm.v1.RollbackTrafficSplitRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getRollbackTrafficSplitMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Loads an adapter (LoRA in peft's format, or a bottleneck adapter) onto a loaded model version
     * from a local directory.
     * </pre>
     */
    public org.openautoglm.v1.LoadAdapterResponse loadAdapter(org.openautoglm.v1.LoadAdapterRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getLoadAdapterMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists the adapters loaded on a model's versions.
     * </pre>
     */
    public org.openautoglm.v1.ListAdaptersResponse listAdapters(org.openautoglm.v1.ListAdaptersRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListAdaptersMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Unloads an adapter after its in-flight calls finish.
     * </pre>
     */
    public org.openautoglm.v1.UnloadAdapterResponse unloadAdapter(org.openautoglm.v1.UnloadAdapterRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getUnloadAdapterMethod(), getCallOptions(), request);
    }
  }

  /**
   * <pre>
   * Model management: listing, loading and traffic between versions.
   * </pre>
   */
  public static final class ModelServiceFutureStub extends io.grpc.stub.AbstractFutureStub<ModelServiceFutureStub> {
    private ModelServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected ModelServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new ModelServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Lists the models the server knows, with their versions.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<org.openautoglm.v1.ListModelsResponse> listModels(
        org.openautoglm.v1.ListModelsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListModelsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Returns one model by alias or name.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<org.openautoglm.v1.GetModelResponse> getModel(
        org.openautoglm.v1.GetModelRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetModelMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Loads a model version from a local path or a known alias.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<org.openautoglm.v1.LoadModelResponse> loadModel(
        org.openautoglm.v1.LoadModelRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getLoadModelMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Unloads a model version after its in-flight calls finish.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<org.openautoglm.v1.UnloadModelResponse> unloadModel(
        org.openautoglm.v1.UnloadModelRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getUnloadModelMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Sets the share of traffic each version of a model receives.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<org.openautoglm.v1.SetTrafficSplitResponse> setTrafficSplit(
        org.openautoglm.v1.SetTrafficSplitRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getSetTrafficSplitMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Sends all traffic of a model to one version (the end of a successful canary).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<org.openautoglm.v1.PromoteModelVersionResponse> promoteModelVersion(
        org.openautoglm.v1.PromoteModelVersionRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getPromoteModelVersionMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Restores the traffic split that was in force before the last change.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<org.openautoglm.v1.RollbackTrafficSplitResponse> rollbackTrafficSplit(
        org.openautoglm.v1.RollbackTrafficSplitRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getRollbackTrafficSplitMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Loads an adapter (LoRA in peft's format, or a bottleneck adapter) onto a loaded model version
     * from a local directory.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<org.openautoglm.v1.LoadAdapterResponse> loadAdapter(
        org.openautoglm.v1.LoadAdapterRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getLoadAdapterMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists the adapters loaded on a model's versions.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<org.openautoglm.v1.ListAdaptersResponse> listAdapters(
        org.openautoglm.v1.ListAdaptersRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListAdaptersMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Unloads an adapter after its in-flight calls finish.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<org.openautoglm.v1.UnloadAdapterResponse> unloadAdapter(
        org.openautoglm.v1.UnloadAdapterRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getUnloadAdapterMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_LIST_MODELS = 0;
  private static final int METHODID_GET_MODEL = 1;
  private static final int METHODID_LOAD_MODEL = 2;
  private static final int METHODID_UNLOAD_MODEL = 3;
  private static final int METHODID_SET_TRAFFIC_SPLIT = 4;
  private static final int METHODID_PROMOTE_MODEL_VERSION = 5;
  private static final int METHODID_ROLLBACK_TRAFFIC_SPLIT = 6;
  private static final int METHODID_LOAD_ADAPTER = 7;
  private static final int METHODID_LIST_ADAPTERS = 8;
  private static final int METHODID_UNLOAD_ADAPTER = 9;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final ModelServiceImplBase serviceImpl;
    private final int methodId;

    MethodHandlers(ModelServiceImplBase serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_LIST_MODELS:
          serviceImpl.listModels((org.openautoglm.v1.ListModelsRequest) request,
              (io.grpc.stub.StreamObserver<org.openautoglm.v1.ListModelsResponse>) responseObserver);
          break;
        case METHODID_GET_MODEL:
          serviceImpl.getModel((org.openautoglm.v1.GetModelRequest) request,
              (io.grpc.stub.StreamObserver<org.openautoglm.v1.GetModelResponse>) responseObserver);
          break;
        case METHODID_LOAD_MODEL:
          serviceImpl.loadModel((org.openautoglm.v1.LoadModelRequest) request,
              (io.grpc.stub.StreamObserver<org.openautoglm.v1.LoadModelResponse>) responseObserver);
          break;
        case METHODID_UNLOAD_MODEL:
          serviceImpl.unloadModel((org.openautoglm.v1.UnloadModelRequest) request,
              (io.grpc.stub.StreamObserver<org.openautoglm.v1.UnloadModelResponse>) responseObserver);
          break;
        case METHODID_SET_TRAFFIC_SPLIT:
          serviceImpl.setTrafficSplit((org.openautoglm.v1.SetTrafficSplitRequest) request,
              (io.grpc.stub.StreamObserver<org.openautoglm.v1.SetTrafficSplitResponse>) responseObserver);
          break;
        case METHODID_PROMOTE_MODEL_VERSION:
          serviceImpl.promoteModelVersion((org.openautoglm.v1.PromoteModelVersionRequest) request,
              (io.grpc.stub.StreamObserver<org.openautoglm.v1.PromoteModelVersionResponse>) responseObserver);
          break;
        case METHODID_ROLLBACK_TRAFFIC_SPLIT:
          serviceImpl.rollbackTrafficSplit((org.openautoglm.v1.RollbackTrafficSplitRequest) request,
              (io.grpc.stub.StreamObserver<org.openautoglm.v1.RollbackTrafficSplitResponse>) responseObserver);
          break;
        case METHODID_LOAD_ADAPTER:
          serviceImpl.loadAdapter((org.openautoglm.v1.LoadAdapterRequest) request,
              (io.grpc.stub.StreamObserver<org.openautoglm.v1.LoadAdapterResponse>) responseObserver);
          break;
        case METHODID_LIST_ADAPTERS:
          serviceImpl.listAdapters((org.openautoglm.v1.ListAdaptersRequest) request,
              (io.grpc.stub.StreamObserver<org.openautoglm.v1.ListAdaptersResponse>) responseObserver);
          break;
        case METHODID_UNLOAD_ADAPTER:
          serviceImpl.unloadAdapter((org.openautoglm.v1.UnloadAdapterRequest) request,
              (io.grpc.stub.StreamObserver<org.openautoglm.v1.UnloadAdapterResponse>) responseObserver);
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

  private static abstract class ModelServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    ModelServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return org.openautoglm.v1.ModelProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("ModelService");
    }
  }

  private static final class ModelServiceFileDescriptorSupplier
      extends ModelServiceBaseDescriptorSupplier {
    ModelServiceFileDescriptorSupplier() {}
  }

  private static final class ModelServiceMethodDescriptorSupplier
      extends ModelServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final String methodName;

    ModelServiceMethodDescriptorSupplier(String methodName) {
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
      synchronized (ModelServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new ModelServiceFileDescriptorSupplier())
              .addMethod(getListModelsMethod())
              .addMethod(getGetModelMethod())
              .addMethod(getLoadModelMethod())
              .addMethod(getUnloadModelMethod())
              .addMethod(getSetTrafficSplitMethod())
              .addMethod(getPromoteModelVersionMethod())
              .addMethod(getRollbackTrafficSplitMethod())
              .addMethod(getLoadAdapterMethod())
              .addMethod(getListAdaptersMethod())
              .addMethod(getUnloadAdapterMethod())
              .build();
        }
      }
    }
    return result;
  }
}
