package io.tollgate.testkit;

import io.tollgate.pki.CertificateAuthority;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import javax.net.ssl.TrustManagerFactory;

/**
 * Debian's {@code pebble} (Let's Encrypt's test ACME server) as a child process on loopback: its
 * validator resolves every name to 127.0.0.1 (through a {@link TestDnsServer}) and connects to the
 * given tls-alpn-01 and http-01 ports, where the server under test answers. Validations are real
 * ({@code PEBBLE_VA_ALWAYS_VALID} is cleared), without pebble's random sleeps.
 */
public final class PebbleServer implements AutoCloseable {
  private final Process process;
  private final TestDnsServer dns;
  private final int port;
  private final int managementPort;
  private final Path httpsCa;
  private final HttpClient http;

  /** Options of one pebble instance. */
  public record Options(
      int tlsPort, int httpPort, Duration validity, List<String> blocked, int acmePort) {
    /** Challenges on these ports; default validity, nothing blocked, any free ACME port. */
    public Options(int tlsPort, int httpPort) {
      this(tlsPort, httpPort, null, List.of(), 0);
    }

    /** Lifetime of issued certificates (pebble's certificateValidityPeriod). */
    public Options validity(Duration d) {
      return new Options(tlsPort, httpPort, d, blocked, acmePort);
    }

    /** Names pebble refuses to order (its domainBlocklist). */
    public Options blocked(String... names) {
      return new Options(tlsPort, httpPort, validity, List.of(names), acmePort);
    }

    /** The ACME port, for a client configured before pebble starts. */
    public Options acmePort(int port) {
      return new Options(tlsPort, httpPort, validity, blocked, port);
    }
  }

  private PebbleServer(
      Process process,
      TestDnsServer dns,
      int port,
      int managementPort,
      Path httpsCa,
      HttpClient http) {
    this.process = process;
    this.dns = dns;
    this.port = port;
    this.managementPort = managementPort;
    this.httpsCa = httpsCa;
    this.http = http;
  }

  /** Whether the pebble binary is installed. */
  public static boolean installed() {
    return CommandLineTools.which("pebble").isPresent();
  }

  /**
   * Starts pebble with its files in {@code dir} and waits (at most 20 s) until its directory
   * answers.
   */
  public static PebbleServer start(Path dir, Options options) throws Exception {
    Path caPem = httpsCa(dir);
    Path chain = dir.resolve("pebble-https.pem");
    Path key = dir.resolve("pebble-https.key");
    int port = options.acmePort() > 0 ? options.acmePort() : FreePorts.next();
    int management = FreePorts.next();
    String blocked =
        options.blocked().stream().map(n -> "\"" + n + "\"").collect(Collectors.joining(", "));
    String config =
        "{ \"pebble\": {\n"
            + "  \"listenAddress\": \"127.0.0.1:"
            + port
            + "\",\n"
            + "  \"managementListenAddress\": \"127.0.0.1:"
            + management
            + "\",\n"
            + "  \"certificate\": \""
            + chain
            + "\",\n"
            + "  \"privateKey\": \""
            + key
            + "\",\n"
            + "  \"httpPort\": "
            + options.httpPort()
            + ",\n"
            + "  \"tlsPort\": "
            + options.tlsPort()
            + ",\n"
            + "  \"ocspResponderURL\": \"\",\n"
            + "  \"externalAccountBindingRequired\": false,\n"
            + (options.validity() == null
                ? ""
                : "  \"certificateValidityPeriod\": " + options.validity().toSeconds() + ",\n")
            + "  \"domainBlocklist\": ["
            + blocked
            + "]\n"
            + "} }\n";
    Path configFile = dir.resolve("pebble-config.json");
    Files.writeString(configFile, config);
    TestDnsServer dns = TestDnsServer.start().everyOtherName("127.0.0.1");
    ProcessBuilder builder =
        new ProcessBuilder("pebble", "-config", configFile.toString(), "-dnsserver", dns.address())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("pebble.log").toFile());
    builder.environment().put("PEBBLE_VA_NOSLEEP", "1");
    builder.environment().put("PEBBLE_WFE_NONCEREJECT", "0");
    builder.environment().put("PEBBLE_AUTHZREUSE", "0");
    builder.environment().remove("PEBBLE_VA_ALWAYS_VALID");
    Process process = builder.start();
    HttpClient http =
        HttpClient.newBuilder()
            .sslContext(trusting(caPem))
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    PebbleServer pebble = new PebbleServer(process, dns, port, management, caPem, http);
    try {
      Await.until(
          () -> pebble.answers(port) && pebble.answers(management),
          Duration.ofSeconds(20),
          () -> "pebble did not start; see " + dir.resolve("pebble.log"));
    } catch (AssertionError | InterruptedException e) {
      pebble.close();
      throw e;
    }
    return pebble;
  }

  /**
   * The root of pebble's own HTTPS certificate in {@code dir}, created (with pebble's certificate
   * for localhost and 127.0.0.1) if absent: a client can be configured before pebble starts.
   */
  public static Path httpsCa(Path dir) throws IOException {
    Files.createDirectories(dir);
    Path caPem = dir.resolve("pebble-https-ca.pem");
    if (!Files.exists(caPem)) {
      CertificateAuthority ca =
          CertificateAuthority.create("Pebble HTTPS test CA", CertificateAuthority.KeyType.EC_P256);
      ca.issue(CertificateAuthority.KeyType.EC_P256, "localhost", "127.0.0.1")
          .writePem(dir, "pebble-https");
      ca.writeCertificatePem(caPem);
    }
    return caPem;
  }

  private static javax.net.ssl.SSLContext trusting(Path pem) throws Exception {
    javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
    context.init(null, trustManagers(Files.readString(pem)).getTrustManagers(), null);
    return context;
  }

  private static TrustManagerFactory trustManagers(String pem) throws Exception {
    KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
    store.load(null, null);
    int i = 0;
    for (Certificate c :
        CertificateFactory.getInstance("X.509")
            .generateCertificates(
                new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
      store.setCertificateEntry("root" + i++, c);
    }
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(store);
    return tmf;
  }

  private boolean answers(int p) {
    if (!process.isAlive()) {
      throw new AssertionError("pebble exited with " + process.exitValue());
    }
    try (Socket s = new Socket(java.net.InetAddress.getLoopbackAddress(), p)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** The ACME directory URL. */
  public String directory() {
    return directory(port);
  }

  /** The ACME directory URL of a pebble on {@code port}. */
  public static String directory(int port) {
    return "https://127.0.0.1:" + port + "/dir";
  }

  /** The PEM root that pebble's own HTTPS chains to (for an ACME client's {@code ca}). */
  public Path httpsCa() {
    return httpsCa;
  }

  /** Trust for the certificates pebble issues: its current root, from the management API. */
  public TrustManagerFactory issuedRoots() throws Exception {
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + managementPort + "/roots/0"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    return trustManagers(response.body());
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(5, java.util.concurrent.TimeUnit.SECONDS);
    }
    dns.close();
  }
}
