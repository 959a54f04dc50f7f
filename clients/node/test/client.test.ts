// Runs the client against a live `autoglm serve --backend mock` started here as a subprocess.
// AUTOGLM_BIN names the server binary (default: ../../.venv/bin/autoglm, relative to clients/node).
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, test } from "node:test";
import { AutoGLMClient, Code, ConnectError, FinishReason, type StreamEvent, badRequestOf } from "../src/index.js";

const bin = process.env.AUTOGLM_BIN ?? resolve(import.meta.dirname, "../../../../.venv/bin/autoglm");

let server: ChildProcess | undefined;
let dataDir: string | undefined;
let client: AutoGLMClient;

function killServer(): void {
  if (server && server.exitCode === null && server.signalCode === null) server.kill("SIGKILL");
}
process.on("exit", killServer);

async function startServer(): Promise<string> {
  dataDir = mkdtempSync(join(tmpdir(), "autoglm-node-test-"));
  const child = spawn(
    bin,
    ["serve", "--backend", "mock", "--port", "0", "--mock-token-latency-ms", "20", "--data-dir", dataDir],
    // No fixed side ports (metrics): several test servers may run at once.
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, AUTOGLM_METRICS_PORT: "0" } },
  );
  server = child;
  const verbose = process.env.AUTOGLM_TEST_VERBOSE !== undefined;
  return await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error("server did not start within 60 s")), 60_000);
    let started = false;
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on("line", (line) => {
        if (verbose || !started) console.error(`[server] ${line}`);
        const m = /serving on (\S+):(\d+)/.exec(line);
        if (m && !started) {
          started = true;
          clearTimeout(timer);
          ok(`http://${m[1]}:${m[2]}`);
        }
      });
    }
    child.on("error", (e) => { clearTimeout(timer); fail(e); });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (!started) fail(new Error(`server exited early (code ${code}, signal ${signal}); AUTOGLM_BIN=${bin}`));
    });
  });
}

async function stopServer(): Promise<void> {
  const child = server;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((ok) => child.once("exit", () => ok()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

describe("AutoGLMClient against a live mock server", () => {
  before(async () => {
    client = new AutoGLMClient({ baseUrl: await startServer() });
  });

  after(async () => {
    client?.close();
    await stopServer();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test("unary generate returns text and usage", async () => {
    const reply = await client.generate(
      { input: { case: "prompt", value: "Hello from Node" }, sampling: { maxNewTokens: 8 } },
      { timeoutMs: 30_000, headers: { "x-request-id": "node-test-1" } },
    );
    assert.ok(reply.text.length > 0, "text is empty");
    assert.equal(reply.requestId, "node-test-1");
    assert.ok(reply.usage, "no usage");
    assert.ok(reply.usage.promptTokens > 0);
    assert.ok(reply.usage.completionTokens > 0 && reply.usage.completionTokens <= 8);
    assert.notEqual(reply.finishReason, FinishReason.UNSPECIFIED);
    assert.ok(reply.model?.name);
  });

  test("stream yields content deltas then a finished event", async () => {
    const events: StreamEvent[] = [];
    for await (const ev of client.stream(
      { input: { case: "prompt", value: "Hello from Node" }, sampling: { maxNewTokens: 8 } },
      { timeoutMs: 30_000 },
    )) {
      events.push(ev);
    }
    assert.ok(events.length >= 2, `expected events, got ${events.length}`);
    const last = events[events.length - 1];
    assert.equal(last.case, "finished");
    if (last.case === "finished") {
      assert.ok((last.value.usage?.completionTokens ?? 0) > 0);
      assert.notEqual(last.value.finishReason, FinishReason.UNSPECIFIED);
    }
    let text = "";
    for (const ev of events.slice(0, -1)) {
      assert.ok(ev.case === "contentDelta" || ev.case === "reasoningDelta", `unexpected event ${ev.case}`);
      if (ev.case === "contentDelta") text += ev.value.text;
      assert.equal(ev.requestId, last.requestId);
    }
    assert.ok(text.length > 0, "no content");
    // The mock backend is deterministic: the stream and the unary call agree.
    const unary = await client.generate({ input: { case: "prompt", value: "Hello from Node" }, sampling: { maxNewTokens: 8 } });
    assert.equal(text, unary.text);
  });

  test("listModels returns the default model", async () => {
    const models = await client.listModels({ timeoutMs: 10_000 });
    assert.ok(models.models.length > 0);
    assert.ok(models.defaultModel.length > 0);
  });

  test("a deadline gives DeadlineExceeded", async () => {
    // 200 tokens at 20 ms each take ~4 s; the deadline is 300 ms.
    const started = Date.now();
    await assert.rejects(
      client.generate({ input: { case: "prompt", value: "a slow one" }, sampling: { maxNewTokens: 200 } }, { timeoutMs: 300 }),
      (err: unknown) => {
        assert.ok(err instanceof ConnectError, String(err));
        assert.equal(err.code, Code.DeadlineExceeded);
        return true;
      },
    );
    assert.ok(Date.now() - started < 3_000, "the deadline was not enforced promptly");
  });

  test("a bad request gives InvalidArgument with a BadRequest field violation", async () => {
    await assert.rejects(
      client.generate({ input: { case: "prompt", value: "hi" }, sampling: { temperature: -1 } }, { timeoutMs: 10_000 }),
      (err: unknown) => {
        assert.ok(err instanceof ConnectError, String(err));
        assert.equal(err.code, Code.InvalidArgument);
        const details = badRequestOf(err);
        assert.ok(details, "no google.rpc.BadRequest detail");
        const fields = details.fieldViolations.map((v) => v.field);
        assert.ok(fields.includes("input.sampling.temperature"), `violations: ${fields.join(", ")}`);
        return true;
      },
    );
  });
});
