package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.epoll.Epoll;
import io.tollgate.Tollgate;
import io.tollgate.config.ConfigLoader;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.testkit.TlsTestClient;
import io.tollgate.testkit.TlsTestServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code listeners[].reuse-port}: two Tollgates bind the same 127.0.0.1 port when both ask for it,
 * and either serves it alone once the other has stopped; without it on both, the second cannot
 * start and says which listener and address.
 */
@Timeout(60)
class ReusePortTest {
  private CertificateAuthority ca;
  private TlsTestServer backend;
  private final List<Tollgate> running = new ArrayList<>();

  @BeforeEach
  void setUp() {
    assumeTrue(Epoll.isAvailable(), "SO_REUSEPORT is set by the epoll transport only");
    ca = CertificateAuthority.create("Reuse CA", KeyType.EC_P256);
    backend =
        TlsTestServer.start(ca.issue(KeyType.EC_P256, "web.test"), TlsTestServer.greet("web"));
  }

  @AfterEach
  void tearDown() {
    running.forEach(Tollgate::close);
    if (backend != null) {
      backend.close();
    }
  }

  private Tollgate start(int port, boolean reusePort) throws Exception {
    Tollgate t =
        Tollgate.start(
            ConfigLoader.parse(
                String.format(
                    """
                    tollgate {
                      listeners = [ { name = main, address = "127.0.0.1:%d", reuse-port = %s } ]
                      routes = [ { hosts = ["web.test"], pool = web } ]
                      pools { web { servers = ["127.0.0.1:%d"] } }
                    }
                    """,
                    port, reusePort, backend.port()),
                "it.conf"));
    running.add(t);
    return t;
  }

  private String greeting(int port) throws Exception {
    try (TlsTestClient.Connection c = TlsTestClient.connect(port, "web.test", ca)) {
      return new BufferedReader(
              new InputStreamReader(c.socket().getInputStream(), StandardCharsets.UTF_8))
          .readLine();
    }
  }

  @Test
  void twoTollgatesWithReusePortShareAPortAndEitherServesItAlone() throws Exception {
    Tollgate first = start(0, true);
    int port = first.address("main").getPort();
    Tollgate second = start(port, true);
    assertThat(second.address("main").getPort()).isEqualTo(port);

    first.shutdown(java.time.Duration.ofSeconds(5));
    for (int i = 0; i < 5; i++) {
      assertThat(greeting(port)).as("connection %d, first stopped", i).isEqualTo("web");
    }
    assertThat(second.metrics().acceptedCount()).isEqualTo(5);
  }

  @Test
  void withoutReusePortTheSecondCannotBindAndSaysWhy() throws Exception {
    int port = start(0, false).address("main").getPort();
    assertThatThrownBy(() -> start(port, false))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("listener main: cannot bind 127.0.0.1:" + port)
        .hasMessageContaining("Address already in use");
    // Both must ask: the kernel refuses a second socket when the first did not set it.
    assertThatThrownBy(() -> start(port, true))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("Address already in use");
    assertThat(greeting(port)).isEqualTo("web");
  }
}
