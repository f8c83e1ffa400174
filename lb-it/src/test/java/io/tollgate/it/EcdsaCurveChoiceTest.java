package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.testkit.CommandLineTools;
import io.tollgate.testkit.CommandLineTools.ProcessResult;
import io.tollgate.testkit.TlsTestServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A route with an ECDSA P-256 and an RSA certificate, reached by {@code openssl s_client}
 * restricted to what some clients accept: one that signs only with {@code ecdsa_secp384r1_sha384}
 * and RSA-PSS must get the RSA certificate (a P-256 certificate cannot sign for it in TLS 1.3, so
 * the handshake would fail), a TLS 1.2 client whose supported groups lack P-256 likewise, and an
 * ordinary client the ECDSA one.
 */
@Timeout(120)
class EcdsaCurveChoiceTest {
  private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(20);

  @TempDir static Path dir;
  @RegisterExtension static final ClassResources resources = new ClassResources();
  private static TollgateFixture tollgate;
  private static Path caPem;

  @BeforeAll
  static void start() throws Exception {
    CertificateAuthority root = CertificateAuthority.create("Curve Root", KeyType.RSA_2048);
    caPem = root.writeCertificatePem(dir.resolve("ca.pem"));
    root.issue(KeyType.EC_P256, "dual.test").writePem(dir, "dual-ec");
    root.issue(KeyType.RSA_2048, "dual.test").writePem(dir, "dual-rsa");
    TlsTestServer origin = resources.add(TlsTestServer.startPlain(new PlainHttpResponder("dual")));
    tollgate =
        resources.add(
            TollgateFixture.startIn(
                dir,
                String.format(
                    """
        certificates { trusted-roots = "ca.pem" }
        routes = [
          { hosts = ["dual.test"], mode = offload, pool = dual,
            certificate = [ { chain = "dual-ec.pem", key = "dual-ec.key" },
                            { chain = "dual-rsa.pem", key = "dual-rsa.key" } ] }
        ]
        pools { dual { servers = ["127.0.0.1:%d"] } }
        """,
                    origin.port())));
  }

  @Test
  void tls13ClientSigningOnlyWithP384AndRsaPssGetsTheRsaCertificate() {
    String out = connectOk("-tls1_3", "-sigalgs", "ecdsa_secp384r1_sha384:rsa_pss_rsae_sha256");
    assertThat(out).contains("Server public key is 2048 bit").contains("TLSv1.3");
  }

  @Test
  void tls13ClientSigningWithP256GetsTheEcdsaCertificate() {
    String out = connectOk("-tls1_3", "-sigalgs", "ecdsa_secp256r1_sha256:rsa_pss_rsae_sha256");
    assertThat(out).contains("Server public key is 256 bit");
  }

  @Test
  void tls12ClientWithoutP256AmongItsGroupsGetsTheRsaCertificate() {
    String out = connectOk("-tls1_2", "-groups", "P-384:X25519");
    assertThat(out).contains("Server public key is 2048 bit").contains("TLSv1.2");
    String p256 = connectOk("-tls1_2", "-groups", "P-256:X25519");
    assertThat(p256).contains("Server public key is 256 bit");
  }

  /** s_client to dual.test verifying chain and name; returns stdout. */
  private static String connectOk(String... extra) {
    List<String> command =
        new ArrayList<>(
            List.of(
                tool("openssl"),
                "s_client",
                "-connect",
                "127.0.0.1:" + tollgate.port(),
                "-CAfile",
                caPem.toString(),
                "-servername",
                "dual.test",
                "-verify_hostname",
                "dual.test",
                "-verify_return_error"));
    command.addAll(List.of(extra));
    // stdin is /dev/null: s_client handshakes, prints, reads EOF and closes.
    ProcessResult r = CommandLineTools.run(TOOL_TIMEOUT, command);
    assertThat(r.ok()).as("s_client %s: %s", List.of(extra), r).isTrue();
    assertThat(r.stdout()).as("%s", r).contains("Verify return code: 0 (ok)");
    return r.stdout();
  }

  private static String tool(String name) {
    var path = CommandLineTools.which(name);
    assumeThat(path).as(name + " is not installed").isPresent();
    return path.get().toString();
  }
}
