package io.tollgate.tls;

import io.tollgate.config.AccessLogConfig;
import io.tollgate.config.BackendTlsConfig;
import io.tollgate.config.CertificateFiles;
import io.tollgate.config.CertificateSource;
import io.tollgate.config.CertificatesConfig;
import io.tollgate.config.ClientAuth;
import io.tollgate.config.ConfigError;
import io.tollgate.config.DefaultRoute;
import io.tollgate.config.HostPort;
import io.tollgate.config.IoConfig;
import io.tollgate.config.Limits;
import io.tollgate.config.ListenerConfig;
import io.tollgate.config.OpsConfig;
import io.tollgate.config.PoolConfig;
import io.tollgate.config.RouteConfig;
import io.tollgate.config.RouteMode;
import io.tollgate.config.ServerConfig;
import io.tollgate.config.ServerTlsConfig;
import io.tollgate.config.Timeouts;
import io.tollgate.config.TlsConfig;
import io.tollgate.config.TollgateConfig;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.pki.IssuedCertificate;
import io.tollgate.testkit.TlsTestClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Certificates and configs for the TLS tests: one root and one intermediate authority per test JVM
 * (key generation is the slow part), configs built directly from the lb-config records.
 */
final class TlsFixtures {
  static final CertificateAuthority ROOT =
      CertificateAuthority.create("Tollgate TLS test root", KeyType.EC_P256);
  static final CertificateAuthority INTERMEDIATE =
      ROOT.intermediate("Tollgate TLS test intermediate", KeyType.EC_P256);

  /** An unrelated authority: its certificates must not verify against {@link #ROOT}. */
  static final CertificateAuthority OTHER_ROOT =
      CertificateAuthority.create("Unrelated test root", KeyType.EC_P256);

  private TlsFixtures() {}

  /** A TLS client to {@code 127.0.0.1:port} that trusts {@link #ROOT}. */
  static TlsTestClient client(int port) {
    return TlsTestClient.to(port).trust(ROOT.trustManagers());
  }

  /** The result of one {@link TlsMaterial#build}. */
  record Built(TlsMaterial material, List<ConfigError> errors, List<ConfigError> warnings) {
    String errorText() {
      return errors.stream().map(ConfigError::toString).collect(Collectors.joining("\n"));
    }

    String warningText() {
      return warnings.stream().map(ConfigError::toString).collect(Collectors.joining("\n"));
    }

    Built assertNoErrors() {
      if (!errors.isEmpty()) {
        throw new AssertionError("unexpected errors:\n" + errorText());
      }
      return this;
    }
  }

  static Built build(TollgateConfig config) {
    List<ConfigError> errors = new ArrayList<>();
    List<ConfigError> warnings = new ArrayList<>();
    TlsMaterial material = TlsMaterial.build(config, errors, warnings);
    return new Built(material, errors, warnings);
  }

  /** Writes the chain and PKCS#8 key as {@code dir/name.pem} and {@code dir/name.key}. */
  static CertificateFiles write(IssuedCertificate issued, Path dir, String name) {
    IssuedCertificate.PemFiles files = issued.writePem(dir, name);
    return new CertificateFiles(files.certificateChain(), files.privateKey());
  }

  /** Writes chain and key into one file {@code dir/name.pem}, readable by its owner only. */
  static Path writeBundle(IssuedCertificate issued, Path dir, String name) {
    return ownerOnly(writeString(dir.resolve(name + ".pem"), issued.chainPem() + issued.keyPem()));
  }

  static Path ownerOnly(Path file) {
    try {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Path writeString(Path file, String text) {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Files.writeString(file, text);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code dir/roots.pem} holding {@link #ROOT}. */
  static Path rootsPem(Path dir) {
    return ROOT.writeCertificatePem(dir.resolve("roots.pem"));
  }

  static CertificatesConfig trusting(Path dir) {
    return new CertificatesConfig(Optional.empty(), Optional.of(rootsPem(dir)));
  }

  static CertificatesConfig store(Path storeDir, Path rootsDir) {
    return new CertificatesConfig(Optional.of(storeDir), Optional.of(rootsPem(rootsDir)));
  }

  static ServerTlsConfig files(CertificateFiles... files) {
    return ServerTlsConfig.defaults(new CertificateSource.Files(Arrays.asList(files)));
  }

  static ServerTlsConfig auto() {
    return ServerTlsConfig.defaults(new CertificateSource.Auto());
  }

  static ServerTlsConfig withAlpn(ServerTlsConfig tls, List<String> alpn) {
    return new ServerTlsConfig(
        tls.certificate(), alpn, tls.protocols(), tls.ciphers(), tls.clientAuth());
  }

  static ServerTlsConfig withCiphers(ServerTlsConfig tls, List<String> ciphers) {
    return new ServerTlsConfig(
        tls.certificate(), tls.alpn(), tls.protocols(), ciphers, tls.clientAuth());
  }

  static ServerTlsConfig withClientAuth(ServerTlsConfig tls, ClientAuth clientAuth) {
    return new ServerTlsConfig(
        tls.certificate(), tls.alpn(), tls.protocols(), tls.ciphers(), Optional.of(clientAuth));
  }

  static RouteConfig offload(ServerTlsConfig tls, String... hosts) {
    return new RouteConfig(List.of(hosts), RouteMode.OFFLOAD, "web", Optional.of(tls));
  }

  static RouteConfig reencrypt(String pool, ServerTlsConfig tls, String... hosts) {
    return new RouteConfig(List.of(hosts), RouteMode.REENCRYPT, pool, Optional.of(tls));
  }

  static PoolConfig pool(String name, BackendTlsConfig tls) {
    return new PoolConfig(
        name,
        List.of(new ServerConfig(new HostPort("127.0.0.1", 8443), 1)),
        1,
        Optional.ofNullable(tls));
  }

  static TollgateConfig config(
      CertificatesConfig certificates,
      TlsConfig tls,
      List<RouteConfig> routes,
      PoolConfig... extraPools) {
    Map<String, PoolConfig> pools = new LinkedHashMap<>();
    pools.put("web", pool("web", null));
    for (PoolConfig pool : extraPools) {
      pools.put(pool.name(), pool);
    }
    return new TollgateConfig(
        List.of(new ListenerConfig("main", new HostPort("127.0.0.1", 0))),
        new IoConfig(IoConfig.Transport.NIO, 1, false),
        new Timeouts(Duration.ofSeconds(5), Duration.ofSeconds(3), Duration.ofMinutes(5)),
        new Limits(16 * 1024),
        routes,
        DefaultRoute.REJECT,
        pools,
        certificates,
        tls,
        AccessLogConfig.OFF,
        "test.conf",
        List.of(),
        OpsConfig.NONE);
  }

  static TollgateConfig config(CertificatesConfig certificates, RouteConfig... routes) {
    return config(certificates, TlsConfig.DEFAULTS, List.of(routes));
  }
}
