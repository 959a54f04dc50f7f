package org.openautoglm.client;

import org.junit.runner.JUnitCore;
import org.junit.runner.Result;
import org.junit.runner.notification.Failure;
import org.junit.internal.TextListener;

/** Runs the JUnit tests without Maven and ends with a "N passed, N failed" line. */
public final class RunTests {
  private RunTests() {}

  public static void main(String[] args) {
    JUnitCore core = new JUnitCore();
    core.addListener(new TextListener(System.out));
    Result result = core.run(AutoGLMClientTest.class);
    int failed = result.getFailureCount();
    int passed = Math.max(0, result.getRunCount() - failed);
    for (Failure f : result.getFailures()) {
      System.out.println("FAILED: " + f.getTestHeader() + ": " + f.getMessage());
    }
    System.out.println(passed + " passed, " + failed + " failed");
    System.exit(result.wasSuccessful() && result.getRunCount() > 0 ? 0 : 1);
  }
}
