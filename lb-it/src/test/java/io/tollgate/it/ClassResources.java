package io.tollgate.it;

import java.util.ArrayDeque;
import java.util.Deque;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * What a test class starts once for all its tests (backends, Tollgate), closed after the last test,
 * newest first: Tollgate, started last, stops before the backends it relays to. Replaces a list of
 * servers plus an {@code @AfterAll} in each class:
 *
 * <pre>
 * &#64;RegisterExtension static final ClassResources resources = new ClassResources();
 * ...
 * TlsTestServer shop = resources.add(TlsTestServer.startPlain(...));
 * tollgate = resources.add(TollgateFixture.start(...));
 * </pre>
 */
final class ClassResources implements AfterAllCallback {
  private final Deque<AutoCloseable> open = new ArrayDeque<>();

  /** Registers {@code resource} to be closed after the class's last test; returns it. */
  synchronized <T extends AutoCloseable> T add(T resource) {
    open.push(resource);
    return resource;
  }

  @Override
  public synchronized void afterAll(ExtensionContext context) throws Exception {
    Exception failure = null;
    while (!open.isEmpty()) {
      try {
        open.pop().close();
      } catch (Exception e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }
}
