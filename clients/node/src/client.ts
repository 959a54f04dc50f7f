// A small typed wrapper around the generated autoglm.v1 stubs, on Connect's gRPC transport (HTTP/2).
import type { MessageInitShape } from "@bufbuild/protobuf";
import { type CallOptions as ConnectCallOptions, type Client, type Interceptor, Code, ConnectError, createClient } from "@connectrpc/connect";
import { Http2SessionManager, createGrpcTransport } from "@connectrpc/connect-node";
import {
  type GenerateResponse,
  type GenerateStreamResponse,
  type GenerationInputSchema,
  type TokenizeResponse,
  GenerationService,
} from "./gen/autoglm/v1/generation_pb.js";
import { type ListModelsResponse, ModelService } from "./gen/autoglm/v1/model_pb.js";
import {
  type BadRequest,
  type ErrorInfo,
  type RetryInfo,
  BadRequestSchema,
  ErrorInfoSchema,
  RetryInfoSchema,
} from "./gen/google/rpc/error_details_pb.js";

/** What to generate: a plain prompt, or a full GenerationInput (prompt or conversation, sampling ...). */
export type GenerationInputInit = string | MessageInitShape<typeof GenerationInputSchema>;

/** Per-call options. */
export interface CallOptions {
  /** Deadline of the call in milliseconds; it fails with Code.DeadlineExceeded when it runs out. */
  timeoutMs?: number;
  /** Request metadata (gRPC headers), e.g. `{"x-request-id": "abc"}`. */
  headers?: Record<string, string> | Headers;
  /** Cancels the call when aborted (Code.Canceled). */
  signal?: AbortSignal;
  /** Called with the response headers. */
  onHeader?: (headers: Headers) => void;
  /** Called with the response trailers. */
  onTrailer?: (trailers: Headers) => void;
}

/** Client options. */
export interface AutoGLMClientOptions {
  /** Server address: "http://host:port" (plaintext) or "https://host:port" (TLS). */
  baseUrl: string;
  /** Deadline applied to calls that set no timeoutMs. */
  defaultTimeoutMs?: number;
  /** Metadata sent with every call (merged under per-call headers). */
  headers?: Record<string, string>;
  /** Connect interceptors applied to every call. */
  interceptors?: Interceptor[];
}

/** One typed event of GenerateStream: the `event` oneof of GenerateStreamResponse plus the request id. */
export type StreamEvent = Exclude<GenerateStreamResponse["event"], { case: undefined }> & {
  requestId: string;
};

/**
 * Client for GenerationService and ModelService.
 *
 * ```ts
 * const client = new AutoGLMClient({ baseUrl: "http://127.0.0.1:50051" });
 * const reply = await client.generate("Hello", { timeoutMs: 30_000 });
 * for await (const ev of client.stream({ prompt: "Hello" })) if (ev.case === "contentDelta") process.stdout.write(ev.value.text);
 * client.close();
 * ```
 */
export class AutoGLMClient {
  /** The generated GenerationService client, for calls the wrapper does not cover. */
  readonly generation: Client<typeof GenerationService>;
  /** The generated ModelService client. */
  readonly models: Client<typeof ModelService>;
  private readonly sessions: Http2SessionManager;
  private readonly defaultHeaders: Record<string, string>;

  constructor(options: AutoGLMClientOptions | string) {
    const opts = typeof options === "string" ? { baseUrl: options } : options;
    this.sessions = new Http2SessionManager(opts.baseUrl);
    const transport = createGrpcTransport({
      baseUrl: opts.baseUrl,
      sessionManager: this.sessions,
      defaultTimeoutMs: opts.defaultTimeoutMs,
      interceptors: opts.interceptors,
    });
    this.defaultHeaders = { ...(opts.headers ?? {}) };
    this.generation = createClient(GenerationService, transport);
    this.models = createClient(ModelService, transport);
  }

  /** GenerationService.Generate: the whole answer in one reply. */
  generate(input: GenerationInputInit, options: CallOptions = {}): Promise<GenerateResponse> {
    return this.generation.generate({ input: toInput(input) }, this.callOptions(options));
  }

  /**
   * GenerationService.GenerateStream as an async iterable of typed events: reasoning/content deltas,
   * tool calls, and a final `finished` event with usage. Breaking out of the loop cancels the call.
   */
  async *stream(input: GenerationInputInit, options: CallOptions = {}): AsyncGenerator<StreamEvent, void, undefined> {
    const responses = this.generation.generateStream({ input: toInput(input) }, this.callOptions(options));
    for await (const r of responses) {
      if (r.event.case !== undefined) {
        yield { ...r.event, requestId: r.requestId };
      }
    }
  }

  /** GenerationService.Tokenize on raw text. */
  tokenize(text: string, model = "", options: CallOptions = {}): Promise<TokenizeResponse> {
    return this.generation.tokenize({ model, input: { case: "text", value: text } }, this.callOptions(options));
  }

  /** ModelService.ListModels. */
  listModels(options: CallOptions = {}): Promise<ListModelsResponse> {
    return this.models.listModels({}, this.callOptions(options));
  }

  /** Closes the HTTP/2 connection; calls in flight are aborted. */
  close(): void {
    this.sessions.abort();
  }

  private callOptions(options: CallOptions): ConnectCallOptions {
    const headers = new Headers(this.defaultHeaders);
    new Headers(options.headers ?? {}).forEach((value, key) => headers.set(key, value));
    return {
      timeoutMs: options.timeoutMs,
      headers,
      signal: options.signal,
      onHeader: options.onHeader,
      onTrailer: options.onTrailer,
    };
  }
}

function toInput(input: GenerationInputInit): MessageInitShape<typeof GenerationInputSchema> {
  return typeof input === "string" ? { input: { case: "prompt", value: input } } : input;
}

/** The google.rpc.BadRequest detail of a failed call (Code.InvalidArgument), if any. */
export function badRequestOf(err: unknown): BadRequest | undefined {
  return ConnectError.from(err).findDetails(BadRequestSchema)[0];
}

/** The google.rpc.RetryInfo detail of a failed call (Code.ResourceExhausted), if any. */
export function retryInfoOf(err: unknown): RetryInfo | undefined {
  return ConnectError.from(err).findDetails(RetryInfoSchema)[0];
}

/** The google.rpc.ErrorInfo detail of a failed call, if any. */
export function errorInfoOf(err: unknown): ErrorInfo | undefined {
  return ConnectError.from(err).findDetails(ErrorInfoSchema)[0];
}

/** The gRPC status code of an error (Code.Unknown for errors that are not ConnectErrors). */
export function codeOf(err: unknown): Code {
  return ConnectError.from(err).code;
}

export { Code, ConnectError };
