// Package autoglm is a small client for the Open-AutoGLM gRPC API (autoglm.v1).
//
//	c, err := autoglm.Dial("127.0.0.1:50051")
//	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
//	defer cancel()
//	reply, err := c.Generate(ctx, autoglm.Prompt("Hello"))
//
// Deadlines come from the context; metadata from autoglm.WithHeaders (or metadata.AppendToOutgoingContext).
package autoglm

import (
	"context"
	"errors"
	"io"

	autoglmv1 "github.com/open-autoglm/open-autoglm/clients/go/gen/autoglm/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Client wraps a connection and the generated GenerationService and ModelService clients.
type Client struct {
	conn       *grpc.ClientConn
	Generation autoglmv1.GenerationServiceClient
	Models     autoglmv1.ModelServiceClient
}

// Dial connects to host:port without TLS; pass grpc.DialOptions (TLS credentials, interceptors) to
// change that.
func Dial(target string, opts ...grpc.DialOption) (*Client, error) {
	if len(opts) == 0 {
		opts = []grpc.DialOption{grpc.WithInsecure()}
	}
	conn, err := grpc.Dial(target, opts...)
	if err != nil {
		return nil, err
	}
	return New(conn), nil
}

// New wraps a connection the caller owns.
func New(conn *grpc.ClientConn) *Client {
	return &Client{
		conn:       conn,
		Generation: autoglmv1.NewGenerationServiceClient(conn),
		Models:     autoglmv1.NewModelServiceClient(conn),
	}
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Prompt is a GenerationInput with a plain prompt.
func Prompt(text string) *autoglmv1.GenerationInput {
	return &autoglmv1.GenerationInput{Input: &autoglmv1.GenerationInput_Prompt{Prompt: text}}
}

// WithHeaders adds request metadata (e.g. "x-request-id") to the context: key, value, key, value ...
func WithHeaders(ctx context.Context, kv ...string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, kv...)
}

// Generate calls GenerationService.Generate.
func (c *Client) Generate(ctx context.Context, in *autoglmv1.GenerationInput, opts ...grpc.CallOption) (*autoglmv1.GenerateResponse, error) {
	return c.Generation.Generate(ctx, &autoglmv1.GenerateRequest{Input: in}, opts...)
}

// Stream calls GenerationService.GenerateStream and calls fn for each event, in order; the last one is
// a finished event. It returns the stream's error, or fn's.
func (c *Client) Stream(ctx context.Context, in *autoglmv1.GenerationInput, fn func(*autoglmv1.GenerateStreamResponse) error, opts ...grpc.CallOption) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s, err := c.Generation.GenerateStream(ctx, &autoglmv1.GenerateStreamRequest{Input: in}, opts...)
	if err != nil {
		return err
	}
	for {
		ev, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(ev); err != nil {
			return err
		}
	}
}

// ListModels calls ModelService.ListModels.
func (c *Client) ListModels(ctx context.Context, opts ...grpc.CallOption) (*autoglmv1.ListModelsResponse, error) {
	return c.Models.ListModels(ctx, &autoglmv1.ListModelsRequest{}, opts...)
}

// BadRequest returns the google.rpc.BadRequest detail of an INVALID_ARGUMENT error, or nil.
func BadRequest(err error) *errdetails.BadRequest {
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			return br
		}
	}
	return nil
}

// RetryInfo returns the google.rpc.RetryInfo detail of a RESOURCE_EXHAUSTED error, or nil.
func RetryInfo(err error) *errdetails.RetryInfo {
	for _, d := range status.Convert(err).Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			return ri
		}
	}
	return nil
}
