package autoglm

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	autoglmv1 "github.com/open-autoglm/open-autoglm/clients/go/gen/autoglm/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

var client *Client

// TestMain starts `autoglm serve --backend mock` ($AUTOGLM_BIN, default ../../.venv/bin/autoglm).
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	bin := os.Getenv("AUTOGLM_BIN")
	if bin == "" {
		bin, _ = filepath.Abs("../../.venv/bin/autoglm")
	}
	dataDir, err := os.MkdirTemp("", "autoglm-go-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dataDir)
	cmd := exec.Command(bin, "serve", "--backend", "mock", "--port", "0", "--mock-token-latency-ms", "20", "--data-dir", dataDir)
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	// No fixed side ports (metrics): several test servers may run at once.
	cmd.Env = append(os.Environ(), "AUTOGLM_METRICS_PORT=0")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "cannot start the server:", err)
		return 1
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
	}()
	target := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`serving on (\S+):(\d+)`)
		sc := bufio.NewScanner(out)
		found := false
		for sc.Scan() {
			if !found || os.Getenv("AUTOGLM_TEST_VERBOSE") != "" {
				fmt.Println("[server]", sc.Text())
			}
			if m := re.FindStringSubmatch(sc.Text()); m != nil && !found {
				found = true
				target <- m[1] + ":" + m[2]
			}
		}
		_, _ = io.Copy(io.Discard, out)
		if !found {
			close(target)
		}
	}()
	var addr string
	select {
	case a, ok := <-target:
		if !ok {
			fmt.Fprintln(os.Stderr, "the server exited early")
			return 1
		}
		addr = a
	case <-time.After(60 * time.Second):
		fmt.Fprintln(os.Stderr, "the server did not start within 60 s")
		return 1
	}
	client, err = Dial(addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer client.Close()
	return m.Run()
}

func input(prompt string, maxNewTokens uint32) *autoglmv1.GenerationInput {
	in := Prompt(prompt)
	in.Sampling = &autoglmv1.SamplingParams{MaxNewTokens: &maxNewTokens}
	return in
}

func TestGenerate(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := client.Generate(WithHeaders(ctx, "x-request-id", "go-test-1"), input("Hello from Go", 8))
	if err != nil {
		t.Fatal(err)
	}
	if r.Text == "" || r.RequestId != "go-test-1" || r.Usage.GetPromptTokens() == 0 ||
		r.Usage.GetCompletionTokens() == 0 || r.Usage.GetCompletionTokens() > 8 ||
		r.FinishReason == autoglmv1.FinishReason_FINISH_REASON_UNSPECIFIED {
		t.Fatalf("unexpected reply %v", r)
	}
}

func TestStream(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var events []*autoglmv1.GenerateStreamResponse
	err := client.Stream(ctx, input("Hello from Go", 8), func(ev *autoglmv1.GenerateStreamResponse) error {
		events = append(events, ev)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) < 2 {
		t.Fatalf("expected events, got %d", len(events))
	}
	var text strings.Builder
	for _, ev := range events[:len(events)-1] {
		switch e := ev.Event.(type) {
		case *autoglmv1.GenerateStreamResponse_ContentDelta:
			text.WriteString(e.ContentDelta.Text)
		case *autoglmv1.GenerateStreamResponse_ReasoningDelta:
		default:
			t.Fatalf("unexpected event %v", ev)
		}
	}
	last := events[len(events)-1].GetFinished()
	if last == nil || last.Usage.GetCompletionTokens() == 0 {
		t.Fatalf("the last event is not a finished event with usage: %v", events[len(events)-1])
	}
	unary, err := client.Generate(ctx, input("Hello from Go", 8))
	if err != nil {
		t.Fatal(err)
	}
	if text.String() == "" || text.String() != unary.Text {
		t.Fatalf("stream text %q != unary text %q", text.String(), unary.Text)
	}
}

func TestListModels(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := client.ListModels(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Models) == 0 || r.DefaultModel == "" {
		t.Fatalf("unexpected reply %v", r)
	}
}

func TestDeadline(t *testing.T) {
	// 200 tokens at 20 ms each take ~4 s; the deadline is 300 ms.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := client.Generate(ctx, input("a slow one", 200))
	if status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("expected DeadlineExceeded, got %v", err)
	}
}

func TestBadRequest(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	in := Prompt("hi")
	temperature := float32(-1)
	in.Sampling = &autoglmv1.SamplingParams{Temperature: &temperature}
	_, err := client.Generate(ctx, in)
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("expected InvalidArgument, got %v", err)
	}
	br := BadRequest(err)
	if br == nil {
		t.Fatalf("no google.rpc.BadRequest detail in %v", err)
	}
	for _, v := range br.FieldViolations {
		if v.Field == "input.sampling.temperature" {
			return
		}
	}
	t.Fatalf("no violation of input.sampling.temperature in %v", br.FieldViolations)
}
