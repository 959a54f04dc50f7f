package org.openautoglm.client;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import com.google.rpc.BadRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;
import org.openautoglm.v1.FinishReason;
import org.openautoglm.v1.GenerateResponse;
import org.openautoglm.v1.GenerateStreamResponse;
import org.openautoglm.v1.GenerationInput;
import org.openautoglm.v1.ListModelsResponse;
import org.openautoglm.v1.SamplingParams;

/**
 * Runs the client against a live `autoglm serve --backend mock` that it starts itself. The server
 * binary comes from $AUTOGLM_BIN (default ../../.venv/bin/autoglm, relative to clients/java).
 */
public class AutoGLMClientTest {
  private static final Pattern SERVING = Pattern.compile("serving on (\\S+):(\\d+)");
  private static Process server;
  private static AutoGLMClient client;

  @BeforeClass
  public static void startServer() throws Exception {
    String bin = System.getenv().getOrDefault("AUTOGLM_BIN", "../../.venv/bin/autoglm");
    File dataDir = Files.createTempDirectory("autoglm-java-test").toFile();
    ProcessBuilder pb =
        new ProcessBuilder(
            bin, "serve", "--backend", "mock", "--port", "0",
            "--mock-token-latency-ms", "20", "--data-dir", dataDir.getPath());
    pb.redirectErrorStream(true);
    // No fixed side ports: several test servers may run at once.
    pb.environment().put("AUTOGLM_METRICS_PORT", "0");
    server = pb.start();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> server.destroyForcibly()));
    BufferedReader out =
        new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
    CompletableFuture<String> target = new CompletableFuture<>();
    Thread reader =
        new Thread(
            () -> {
              try {
                String line;
                while ((line = out.readLine()) != null) {
                  if (System.getenv("AUTOGLM_TEST_VERBOSE") != null || !target.isDone()) {
                    System.out.println("[server] " + line);
                  }
                  Matcher m = SERVING.matcher(line);
                  if (m.find()) {
                    target.complete(m.group(1) + ":" + m.group(2));
                  }
                }
                target.completeExceptionally(new IllegalStateException("server exited early"));
              } catch (Exception e) {
                target.completeExceptionally(e);
              }
            },
            "autoglm-server-output");
    reader.setDaemon(true);
    reader.start();
    client = AutoGLMClient.connect(target.get(60, TimeUnit.SECONDS));
  }

  @AfterClass
  public static void stopServer() throws Exception {
    if (client != null) {
      client.close();
    }
    if (server != null) {
      server.destroy();
      if (!server.waitFor(10, TimeUnit.SECONDS)) {
        server.destroyForcibly();
      }
    }
  }

  private static GenerationInput prompt(String text, int maxNewTokens) {
    return GenerationInput.newBuilder()
        .setPrompt(text)
        .setSampling(SamplingParams.newBuilder().setMaxNewTokens(maxNewTokens))
        .build();
  }

  @Test
  public void unaryGenerateReturnsTextAndUsage() {
    GenerateResponse r =
        client.generate(
            prompt("Hello from Java", 8),
            AutoGLMClient.Options.timeout(Duration.ofSeconds(30))
                .withHeader("x-request-id", "java-test-1"));
    assertFalse("text is empty", r.getText().isEmpty());
    assertEquals("java-test-1", r.getRequestId());
    assertTrue(r.getUsage().getPromptTokens() > 0);
    assertTrue(r.getUsage().getCompletionTokens() > 0);
    assertTrue(r.getUsage().getCompletionTokens() <= 8);
    assertTrue(r.getFinishReason() != FinishReason.FINISH_REASON_UNSPECIFIED);
    assertFalse(r.getModel().getName().isEmpty());
  }

  @Test
  public void streamYieldsContentDeltasThenFinished() {
    Iterator<GenerateStreamResponse> events =
        client.stream(
            prompt("Hello from Java", 8), AutoGLMClient.Options.timeout(Duration.ofSeconds(30)));
    List<GenerateStreamResponse> all = new ArrayList<>();
    events.forEachRemaining(all::add);
    assertTrue("expected events, got " + all.size(), all.size() >= 2);
    StringBuilder text = new StringBuilder();
    for (GenerateStreamResponse e : all.subList(0, all.size() - 1)) {
      assertTrue(
          "unexpected event " + e.getEventCase(),
          e.getEventCase() == GenerateStreamResponse.EventCase.CONTENT_DELTA
              || e.getEventCase() == GenerateStreamResponse.EventCase.REASONING_DELTA);
      text.append(e.getContentDelta().getText());
    }
    assertFalse("no content", text.toString().isEmpty());
    GenerateStreamResponse last = all.get(all.size() - 1);
    assertEquals(GenerateStreamResponse.EventCase.FINISHED, last.getEventCase());
    assertTrue(last.getFinished().getUsage().getCompletionTokens() > 0);
    assertTrue(last.getFinished().getFinishReason() != FinishReason.FINISH_REASON_UNSPECIFIED);
    // The stream and the unary call agree (the mock backend is deterministic).
    GenerateResponse unary = client.generate(prompt("Hello from Java", 8), AutoGLMClient.Options.none());
    assertEquals(unary.getText(), text.toString());
  }

  @Test
  public void listModelsReturnsTheDefaultModel() {
    ListModelsResponse r = client.listModels(AutoGLMClient.Options.timeout(Duration.ofSeconds(10)));
    assertTrue(r.getModelsCount() > 0);
    assertFalse(r.getDefaultModel().isEmpty());
  }

  @Test
  public void deadlineGivesDeadlineExceeded() {
    // 200 tokens at 20 ms each take ~4 s; the deadline is 300 ms.
    try {
      client.generate(
          prompt("a slow one", 200), AutoGLMClient.Options.timeout(Duration.ofMillis(300)));
      fail("expected DEADLINE_EXCEEDED");
    } catch (StatusRuntimeException e) {
      assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
    }
  }

  @Test
  public void badRequestCarriesFieldViolation() {
    GenerationInput bad =
        GenerationInput.newBuilder()
            .setPrompt("hi")
            .setSampling(SamplingParams.newBuilder().setTemperature(-1f))
            .build();
    try {
      client.generate(bad, AutoGLMClient.Options.timeout(Duration.ofSeconds(10)));
      fail("expected INVALID_ARGUMENT");
    } catch (StatusRuntimeException e) {
      assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
      BadRequest details =
          AutoGLMClient.badRequest(e).orElseThrow(() -> new AssertionError("no BadRequest detail"));
      assertTrue(
          "violations: " + details.getFieldViolationsList(),
          details.getFieldViolationsList().stream()
              .anyMatch(v -> v.getField().equals("input.sampling.temperature")));
    }
  }
}
