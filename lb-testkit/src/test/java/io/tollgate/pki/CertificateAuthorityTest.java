package io.tollgate.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.testkit.CommandLineTools;
import io.tollgate.testkit.CommandLineTools.ProcessResult;
import io.tollgate.testkit.TlsTestClient;
import io.tollgate.testkit.TlsTestServer;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyFactory;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class CertificateAuthorityTest {
  private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
  private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

  private static CertificateAuthority ecCa;
  private static CertificateAuthority rsaCa;

  @BeforeAll
  static void authorities() {
    ecCa = CertificateAuthority.create("Test EC CA", KeyType.EC_P256);
    rsaCa = CertificateAuthority.create("Test RSA CA", KeyType.RSA_2048);
  }

  static Stream<Arguments> caAndLeafTypes() {
    return Stream.of(
        Arguments.of(KeyType.EC_P256, KeyType.EC_P256),
        Arguments.of(KeyType.EC_P256, KeyType.RSA_2048),
        Arguments.of(KeyType.RSA_2048, KeyType.EC_P256),
        Arguments.of(KeyType.RSA_2048, KeyType.RSA_2048));
  }

  private static CertificateAuthority ca(KeyType type) {
    return type == KeyType.EC_P256 ? ecCa : rsaCa;
  }

  @ParameterizedTest
  @MethodSource("caAndLeafTypes")
  void issuedLeafCarriesNamesAndVerifiesAgainstCa(KeyType caType, KeyType leafType)
      throws Exception {
    CertificateAuthority ca = ca(caType);
    IssuedCertificate issued = ca.issue(leafType, "a.demo.test", "b.demo.test");
    X509Certificate leaf = issued.certificate();

    leaf.verify(ca.certificate().getPublicKey());
    leaf.checkValidity();
    assertThat(TlsTestClient.dnsNames(leaf)).containsExactly("a.demo.test", "b.demo.test");
    assertThat(leaf.getSubjectX500Principal().getName()).contains("CN=a.demo.test");
    assertThat(leaf.getIssuerX500Principal()).isEqualTo(ca.certificate().getSubjectX500Principal());
    assertThat(leaf.getExtendedKeyUsage()).containsExactlyInAnyOrder(SERVER_AUTH, CLIENT_AUTH);
    assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
    assertThat(leaf.getSigAlgName())
        .isEqualToIgnoringCase(caType == KeyType.EC_P256 ? "SHA256withECDSA" : "SHA256withRSA");
    assertThat(issued.key().getAlgorithm()).isEqualTo(leafType == KeyType.EC_P256 ? "EC" : "RSA");
    assertThat(leaf.getPublicKey().getAlgorithm()).isEqualTo(issued.key().getAlgorithm());
    assertThat(issued.chain()).containsExactly(leaf);
    // AKI/SKI present (2.5.29.35 / 2.5.29.14).
    assertThat(leaf.getNonCriticalExtensionOIDs()).contains("2.5.29.35", "2.5.29.14");
  }

  @Test
  void leafDefaultsToNinetyDaysBackdatedOneHour() {
    Instant before = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    X509Certificate leaf = ecCa.issue(KeyType.EC_P256, "v.test").certificate();
    Instant notBefore = leaf.getNotBefore().toInstant();
    assertThat(Duration.between(notBefore, before))
        .isBetween(Duration.ofMinutes(59), Duration.ofMinutes(61));
    assertThat(Duration.between(notBefore, leaf.getNotAfter().toInstant()))
        .isEqualTo(Duration.ofDays(90).plusHours(1));
  }

  @Test
  void rootIsSelfSignedCaWithCriticalConstraints() throws Exception {
    X509Certificate root = ecCa.certificate();
    root.verify(root.getPublicKey());
    assertThat(root.getBasicConstraints()).isEqualTo(Integer.MAX_VALUE);
    assertThat(root.getCriticalExtensionOIDs()).contains("2.5.29.19", "2.5.29.15");
    boolean[] usage = root.getKeyUsage();
    assertThat(usage[5]).as("keyCertSign").isTrue();
    assertThat(usage[6]).as("cRLSign").isTrue();
    assertThat(root.getNonCriticalExtensionOIDs()).contains("2.5.29.14");
    assertThat(Duration.between(root.getNotBefore().toInstant(), root.getNotAfter().toInstant()))
        .isGreaterThan(Duration.ofDays(3650));
  }

  @Test
  void serialNumbersArePositiveLargeAndDistinct() {
    Set<BigInteger> serials = new HashSet<>();
    for (int i = 0; i < 20; i++) {
      BigInteger serial = ecCa.issue(KeyType.EC_P256, "s.test").certificate().getSerialNumber();
      assertThat(serial.signum()).isPositive();
      assertThat(serial.bitLength()).isGreaterThan(64);
      serials.add(serial);
    }
    assertThat(serials).hasSize(20);
  }

  @Test
  void wildcardAndIpNamesAreAccepted() throws Exception {
    IssuedCertificate issued = ecCa.issue(KeyType.EC_P256, "*.wild.test", "127.0.0.1", "::1");
    Collection<List<?>> sans = issued.certificate().getSubjectAlternativeNames();
    assertThat(sans)
        .containsExactlyInAnyOrder(
            List.of(2, "*.wild.test"), List.of(7, "127.0.0.1"), List.of(7, "0:0:0:0:0:0:0:1"));

    try (TlsTestServer server = TlsTestServer.start(issued, TlsTestServer.echo());
        TlsTestClient.Connection connection =
            TlsTestClient.connect(server.port(), "x.wild.test", ecCa)) {
      assertThat(connection.peerDnsNames()).containsExactly("*.wild.test");
    }
  }

  @Test
  void handshakeFailsForNameNotInCertificate() {
    IssuedCertificate issued = ecCa.issue(KeyType.EC_P256, "right.test");
    try (TlsTestServer server = TlsTestServer.start(issued, TlsTestServer.echo())) {
      assertThatThrownBy(() -> TlsTestClient.connect(server.port(), "wrong.test", ecCa))
          .isInstanceOf(UncheckedIOException.class)
          .hasCauseInstanceOf(SSLHandshakeException.class);
    }
  }

  @Test
  void handshakeFailsAgainstAnotherCa() {
    IssuedCertificate issued = rsaCa.issue(KeyType.EC_P256, "other-ca.test");
    try (TlsTestServer server = TlsTestServer.start(issued, TlsTestServer.echo())) {
      assertThatThrownBy(() -> TlsTestClient.connect(server.port(), "other-ca.test", ecCa))
          .isInstanceOf(UncheckedIOException.class)
          .hasCauseInstanceOf(SSLHandshakeException.class);
    }
  }

  @Test
  void validityCanBeChosenToMakeExpiredCertificates() {
    Instant notAfter = Instant.now().minus(Duration.ofDays(1)).truncatedTo(ChronoUnit.SECONDS);
    Instant notBefore = notAfter.minus(Duration.ofDays(30));
    IssuedCertificate expired =
        ecCa.leaf("expired.test").notBefore(notBefore).notAfter(notAfter).issue();
    assertThat(expired.certificate().getNotBefore().toInstant()).isEqualTo(notBefore);
    assertThat(expired.certificate().getNotAfter().toInstant()).isEqualTo(notAfter);
    assertThatThrownBy(() -> expired.certificate().checkValidity())
        .isInstanceOf(CertificateExpiredException.class);

    try (TlsTestServer server = TlsTestServer.start(expired, TlsTestServer.echo())) {
      assertThatThrownBy(() -> TlsTestClient.connect(server.port(), "expired.test", ecCa))
          .hasCauseInstanceOf(SSLHandshakeException.class);
    }
    assertThatThrownBy(() -> ecCa.leaf("x.test").notBefore(notAfter).notAfter(notBefore).issue())
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void intermediateIssuesLeavesWhoseChainValidatesToRoot() throws Exception {
    CertificateAuthority intermediate = ecCa.intermediate("Test Intermediate", KeyType.RSA_2048);
    assertThat(intermediate.rootCertificate()).isEqualTo(ecCa.certificate());
    assertThat(intermediate.certificate().getBasicConstraints()).isZero();
    intermediate.certificate().verify(ecCa.certificate().getPublicKey());

    IssuedCertificate leaf = intermediate.issue(KeyType.EC_P256, "deep.test");
    assertThat(leaf.chain()).hasSize(2);
    assertThat(leaf.chain().get(1)).isEqualTo(intermediate.certificate());
    leaf.certificate().verify(intermediate.certificate().getPublicKey());

    PKIXParameters parameters =
        new PKIXParameters(Set.of(new TrustAnchor(ecCa.certificate(), null)));
    parameters.setRevocationEnabled(false);
    CertPath path = CertificateFactory.getInstance("X.509").generateCertPath(leaf.chain());
    CertPathValidator.getInstance("PKIX").validate(path, parameters);

    // The intermediate's trust managers trust the root, so a full TLS handshake works too.
    try (TlsTestServer server = TlsTestServer.start(leaf, TlsTestServer.echo());
        TlsTestClient.Connection connection =
            TlsTestClient.connect(server.port(), "deep.test", intermediate)) {
      assertThat(connection.socket().getSession().getPeerCertificates()).hasSize(2);
    }
  }

  @ParameterizedTest
  @EnumSource(KeyType.class)
  void writtenPemFilesParseBack(KeyType type, @TempDir Path dir) throws Exception {
    CertificateAuthority intermediate = ecCa.intermediate("PEM Intermediate", KeyType.EC_P256);
    IssuedCertificate issued = intermediate.issue(type, "pem.test");
    IssuedCertificate.PemFiles files = issued.writePem(dir.resolve("certs"), "pem");

    assertThat(files.certificateChain()).isEqualTo(dir.resolve("certs/pem.pem"));
    assertThat(files.privateKey()).isEqualTo(dir.resolve("certs/pem.key"));
    List<X509Certificate> parsed = new ArrayList<>();
    try (InputStream in = Files.newInputStream(files.certificateChain())) {
      CertificateFactory.getInstance("X.509")
          .generateCertificates(in)
          .forEach(c -> parsed.add((X509Certificate) c));
    }
    assertThat(parsed).containsExactlyElementsOf(issued.chain());

    String keyText = Files.readString(files.privateKey());
    assertThat(keyText).startsWith("-----BEGIN PRIVATE KEY-----\n");
    String base64 = keyText.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
    byte[] der = java.util.Base64.getDecoder().decode(base64);
    assertThat(
            KeyFactory.getInstance(issued.key().getAlgorithm())
                .generatePrivate(new PKCS8EncodedKeySpec(der)))
        .isEqualTo(issued.key());
    if (dir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(files.privateKey())))
          .isEqualTo("rw-------");
    }

    Path traditional = issued.writeTraditionalKey(dir.resolve("trad.key"));
    assertThat(Files.readString(traditional))
        .startsWith(
            type == KeyType.EC_P256
                ? "-----BEGIN EC PRIVATE KEY-----"
                : "-----BEGIN RSA PRIVATE KEY-----");

    Path caFile = ecCa.writeCertificatePem(dir.resolve("ca/ca.pem"));
    try (InputStream in = Files.newInputStream(caFile)) {
      assertThat(CertificateFactory.getInstance("X.509").generateCertificate(in))
          .isEqualTo(ecCa.certificate());
    }
  }

  static Stream<Arguments> nettyProvidersAndKeyTypes() {
    List<Arguments> arguments = new ArrayList<>();
    for (SslProvider provider : List.of(SslProvider.JDK, SslProvider.OPENSSL)) {
      for (KeyType type : KeyType.values()) {
        for (boolean traditional : List.of(false, true)) {
          arguments.add(Arguments.of(provider, type, traditional));
        }
      }
    }
    return arguments.stream();
  }

  /** Netty parsing both key files proves the PEM formats are what servers expect. */
  @ParameterizedTest(name = "{0} {1} traditional={2}")
  @MethodSource("nettyProvidersAndKeyTypes")
  void nettyAcceptsChainAndBothKeyFormats(
      SslProvider provider, KeyType type, boolean traditional, @TempDir Path dir) throws Exception {
    assumeTrue(provider != SslProvider.OPENSSL || OpenSsl.isAvailable(), "OpenSSL unavailable");
    IssuedCertificate issued = ecCa.issue(type, "netty.test");
    IssuedCertificate.PemFiles files = issued.writePem(dir, "netty");
    Path keyFile =
        traditional
            ? issued.writeTraditionalKey(dir.resolve("netty-trad.key"))
            : files.privateKey();

    SslContext context =
        SslContextBuilder.forServer(files.certificateChain().toFile(), keyFile.toFile())
            .sslProvider(provider)
            .build();
    try {
      assertThat(context.isServer()).isTrue();
    } finally {
      ReferenceCountUtil.release(context);
    }
  }

  @ParameterizedTest
  @EnumSource(KeyType.class)
  void opensslReadsTraditionalKeyMatchingCertificate(KeyType type, @TempDir Path dir) {
    assumeTrue(CommandLineTools.which("openssl").isPresent(), "openssl not on PATH");
    IssuedCertificate issued = ecCa.issue(type, "openssl.test");
    IssuedCertificate.PemFiles files = issued.writePem(dir, "o");
    Path traditional = issued.writeTraditionalKey(dir.resolve("o-trad.key"));

    Duration timeout = Duration.ofSeconds(20);
    ProcessResult fromKey =
        CommandLineTools.run(timeout, "openssl", "pkey", "-in", traditional.toString(), "-pubout");
    ProcessResult fromPkcs8 =
        CommandLineTools.run(
            timeout, "openssl", "pkey", "-in", files.privateKey().toString(), "-pubout");
    ProcessResult fromCert =
        CommandLineTools.run(
            timeout,
            "openssl",
            "x509",
            "-in",
            files.certificateChain().toString(),
            "-noout",
            "-pubkey");
    assertThat(fromKey.ok()).as("%s", fromKey).isTrue();
    assertThat(fromPkcs8.ok()).as("%s", fromPkcs8).isTrue();
    assertThat(fromCert.ok()).as("%s", fromCert).isTrue();
    assertThat(fromKey.stdout()).isEqualTo(fromCert.stdout()).isEqualTo(fromPkcs8.stdout());
  }
}
