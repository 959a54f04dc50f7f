package org.openautoglm.client;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.BadRequest;
import com.google.rpc.RetryInfo;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.openautoglm.v1.GenerateRequest;
import org.openautoglm.v1.GenerateResponse;
import org.openautoglm.v1.GenerateStreamRequest;
import org.openautoglm.v1.GenerateStreamResponse;
import org.openautoglm.v1.GenerationInput;
import org.openautoglm.v1.GenerationServiceGrpc;
import org.openautoglm.v1.ListModelsRequest;
import org.openautoglm.v1.ListModelsResponse;
import org.openautoglm.v1.ModelServiceGrpc;

/**
 * A small, blocking client for the Open-AutoGLM gRPC API ({@code autoglm.v1}).
 *
 * <pre>{@code
 * try (AutoGLMClient client = AutoGLMClient.connect("127.0.0.1:50051")) {
 *   GenerateResponse r = client.generate(
 *       GenerationInput.newBuilder().setPrompt("Hello").build(),
 *       AutoGLMClient.Options.timeout(Duration.ofSeconds(30)));
 *   System.out.println(r.getText());
 * }
 * }</pre>
 *
 * <p>Errors are {@link io.grpc.StatusRuntimeException}s; {@link #badRequest(Throwable)} and {@link
 * #retryInfo(Throwable)} read the {@code google.rpc} details the server attaches.
 */
public final class AutoGLMClient implements AutoCloseable {

  /** Per-call options: a timeout (deadline) and request metadata. */
  public static final class Options {
    private Duration timeout;
    private final Metadata metadata = new Metadata();

    /** Options with no timeout and no metadata. */
    public static Options none() {
      return new Options();
    }

    /** Options with a timeout: the call fails with DEADLINE_EXCEEDED when it runs out. */
    public static Options timeout(Duration timeout) {
      return new Options().withTimeout(timeout);
    }

    /** Sets the timeout of the call. */
    public Options withTimeout(Duration timeout) {
      this.timeout = timeout;
      return this;
    }

    /** Adds an ASCII metadata entry (for example {@code x-request-id}). */
    public Options withHeader(String name, String value) {
      metadata.put(Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER), value);
      return this;
    }

    /** Adds every entry of a map as ASCII metadata. */
    public Options withHeaders(Map<String, String> headers) {
      headers.forEach(this::withHeader);
      return this;
    }

    <S extends AbstractStub<S>> S apply(S stub) {
      S s = stub;
      if (timeout != null) {
        s = s.withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS);
      }
      if (metadata.keys().size() > 0) {
        s = s.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(metadata));
      }
      return s;
    }
  }

  private final ManagedChannel channel;
  private final boolean ownsChannel;
  private final GenerationServiceGrpc.GenerationServiceBlockingStub generation;
  private final ModelServiceGrpc.ModelServiceBlockingStub models;

  private AutoGLMClient(ManagedChannel channel, boolean ownsChannel) {
    this.channel = channel;
    this.ownsChannel = ownsChannel;
    this.generation = GenerationServiceGrpc.newBlockingStub(channel);
    this.models = ModelServiceGrpc.newBlockingStub(channel);
  }

  /** Connects to {@code host:port} without TLS. */
  public static AutoGLMClient connect(String target) {
    return new AutoGLMClient(ManagedChannelBuilder.forTarget(target).usePlaintext().build(), true);
  }

  /** Wraps a channel the caller owns (TLS, load balancing, interceptors ...). */
  public static AutoGLMClient wrap(ManagedChannel channel) {
    return new AutoGLMClient(channel, false);
  }

  /** The underlying channel. */
  public ManagedChannel channel() {
    return channel;
  }

  /** GenerationService.Generate: the whole answer in one reply. */
  public GenerateResponse generate(GenerationInput input, Options options) {
    return options.apply(generation).generate(GenerateRequest.newBuilder().setInput(input).build());
  }

  /** GenerationService.Generate with a plain prompt and no options. */
  public GenerateResponse generate(String prompt) {
    return generate(GenerationInput.newBuilder().setPrompt(prompt).build(), Options.none());
  }

  /**
   * GenerationService.GenerateStream: typed events (reasoning/content deltas, tool calls) ending
   * with a {@code finished} event. Switch on {@link GenerateStreamResponse#getEventCase()}. Errors
   * surface as {@link io.grpc.StatusRuntimeException} from {@code hasNext()}/{@code next()}.
   */
  public Iterator<GenerateStreamResponse> stream(GenerationInput input, Options options) {
    return options
        .apply(generation)
        .generateStream(GenerateStreamRequest.newBuilder().setInput(input).build());
  }

  /** ModelService.ListModels. */
  public ListModelsResponse listModels(Options options) {
    return options.apply(models).listModels(ListModelsRequest.getDefaultInstance());
  }

  /** The google.rpc.BadRequest detail of a failed call (INVALID_ARGUMENT), if any. */
  public static Optional<BadRequest> badRequest(Throwable error) {
    return detail(error, BadRequest.class);
  }

  /** The google.rpc.RetryInfo detail of a failed call (RESOURCE_EXHAUSTED), if any. */
  public static Optional<RetryInfo> retryInfo(Throwable error) {
    return detail(error, RetryInfo.class);
  }

  /** The first detail of the given google.rpc type in a failed call's status, if any. */
  public static <T extends com.google.protobuf.Message> Optional<T> detail(
      Throwable error, Class<T> type) {
    com.google.rpc.Status status = StatusProto.fromThrowable(error);
    if (status == null) {
      return Optional.empty();
    }
    for (Any any : status.getDetailsList()) {
      if (any.is(type)) {
        try {
          return Optional.of(any.unpack(type));
        } catch (InvalidProtocolBufferException e) {
          return Optional.empty();
        }
      }
    }
    return Optional.empty();
  }

  /** Shuts the channel down if this client created it. */
  @Override
  public void close() throws InterruptedException {
    if (ownsChannel) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
