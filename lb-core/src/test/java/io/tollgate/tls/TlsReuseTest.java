package io.tollgate.tls;

import static io.tollgate.tls.TlsFixtures.INTERMEDIATE;
import static io.tollgate.tls.TlsFixtures.ROOT;
import static io.tollgate.tls.TlsFixtures.config;
import static io.tollgate.tls.TlsFixtures.files;
import static io.tollgate.tls.TlsFixtures.offload;
import static io.tollgate.tls.TlsFixtures.trusting;
import static io.tollgate.tls.TlsFixtures.write;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.ssl.SslContext;
import io.tollgate.config.CertificateFiles;
import io.tollgate.config.ConfigError;
import io.tollgate.config.RouteConfig;
import io.tollgate.config.TlsConfig;
import io.tollgate.config.TollgateConfig;
import io.tollgate.pki.CertificateAuthority.KeyType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reload's material takes over the contexts of untouched routes as they are (the same {@code
 * SslContext}, so the same session cache) and builds new ones for what changed: a certificate file
 * with other bytes, or another {@code tls} section.
 */
class TlsReuseTest {
  @TempDir Path dir;

  private TlsMaterial build(TollgateConfig config, TlsMaterial previous) {
    List<ConfigError> errors = new ArrayList<>();
    TlsMaterial material = TlsMaterial.build(config, errors, new ArrayList<>(), previous);
    assertThat(errors).isEmpty();
    return material;
  }

  private CertificateFiles filesOf(String name) {
    return new CertificateFiles(dir.resolve(name + ".pem"), dir.resolve(name + ".key"));
  }

  private static SslContext context(TlsMaterial material, String host) {
    return ((RouteServerTls) material.serverTls(host)).sslContext(host, true);
  }

  private TollgateConfig twoRoutes(TlsConfig tls) {
    List<RouteConfig> routes =
        List.of(offload(files(filesOf("a")), "a.test"), offload(files(filesOf("b")), "b.test"));
    return config(trusting(dir), tls, routes);
  }

  @Test
  void untouchedRoutesKeepTheirContextsAndAChangedCertificateGetsANewOne() throws Exception {
    write(ROOT.issue(KeyType.EC_P256, "a.test"), dir, "a");
    write(ROOT.issue(KeyType.EC_P256, "b.test"), dir, "b");
    TlsMaterial first = build(twoRoutes(TlsConfig.DEFAULTS), null);

    TlsMaterial same = build(twoRoutes(TlsConfig.DEFAULTS), first);
    assertThat(context(same, "a.test")).isSameAs(context(first, "a.test"));
    assertThat(context(same, "b.test")).isSameAs(context(first, "b.test"));

    // Same paths, other bytes: b is rebuilt, a is not.
    write(ROOT.issue(KeyType.EC_P256, "b.test"), dir, "b");
    TlsMaterial changed = build(twoRoutes(TlsConfig.DEFAULTS), same);
    assertThat(context(changed, "a.test")).isSameAs(context(first, "a.test"));
    assertThat(context(changed, "b.test")).isNotSameAs(context(first, "b.test"));
    assertThat(changed.reusableContexts()).isEqualTo(2);

    // Another tls section: every context is rebuilt.
    TlsConfig smallerCache = new TlsConfig(true, Optional.empty(), 100, Duration.ofMinutes(5));
    TlsMaterial retuned = build(twoRoutes(smallerCache), changed);
    assertThat(context(retuned, "a.test")).isNotSameAs(context(first, "a.test"));
  }

  @Test
  void aRouteWithOtherHostsIsANewScopeAndGetsItsOwnContext() throws Exception {
    write(ROOT.issue(KeyType.EC_P256, "a.test", "a2.test"), dir, "a");
    TlsMaterial first =
        build(
            config(
                trusting(dir), TlsConfig.DEFAULTS, List.of(offload(files(filesOf("a")), "a.test"))),
            null);
    TlsMaterial second =
        build(
            config(
                trusting(dir),
                TlsConfig.DEFAULTS,
                List.of(offload(files(filesOf("a")), "a.test", "a2.test"))),
            first);
    // The session scope is the route's hosts: a session of the old route must not resume here.
    assertThat(context(second, "a.test")).isNotSameAs(context(first, "a.test"));
  }

  /** Stamps both files of {@code name} a minute ago, as files written before the last load. */
  private void settle(String name) throws Exception {
    FileTime past = FileTime.from(Instant.now().minusSeconds(60));
    Files.setLastModifiedTime(dir.resolve(name + ".pem"), past);
    Files.setLastModifiedTime(dir.resolve(name + ".key"), past);
  }

  @Test
  void settledFilesWithTheSameStampsAreNotReadAgain() throws Exception {
    write(ROOT.issue(KeyType.EC_P256, "a.test"), dir, "a");
    write(ROOT.issue(KeyType.EC_P256, "b.test"), dir, "b");
    settle("a");
    settle("b");
    TlsMaterial first = build(twoRoutes(TlsConfig.DEFAULTS), null);

    // Overwritten in place with bytes of the same length, the stamp put back: only the stamp is
    // looked at, so the certificate loaded before is taken over without reading the file (the
    // garbage would not parse).
    Path chain = dir.resolve("a.pem");
    FileTime stamped = Files.getLastModifiedTime(chain);
    Files.write(chain, new byte[(int) Files.size(chain)]);
    Files.setLastModifiedTime(chain, stamped);
    TlsMaterial second = build(twoRoutes(TlsConfig.DEFAULTS), first);

    assertThat(context(second, "a.test")).isSameAs(context(first, "a.test"));
  }

  @Test
  void aSettledCertificateReplacedByRenameIsLoadedAgain() throws Exception {
    write(ROOT.issue(KeyType.EC_P256, "a.test"), dir, "a");
    write(ROOT.issue(KeyType.EC_P256, "b.test"), dir, "b");
    settle("a");
    settle("b");
    TlsMaterial first = build(twoRoutes(TlsConfig.DEFAULTS), null);

    // As certbot or a deploy tool writes: new files renamed over the old ones, with an old time.
    Path staging = Files.createDirectories(dir.resolve("staging"));
    write(ROOT.issue(KeyType.EC_P256, "a.test"), staging, "a");
    for (String file : List.of("a.pem", "a.key")) {
      Files.setLastModifiedTime(
          staging.resolve(file), Files.getLastModifiedTime(dir.resolve(file)));
      Files.move(staging.resolve(file), dir.resolve(file), StandardCopyOption.ATOMIC_MOVE);
    }
    TlsMaterial second = build(twoRoutes(TlsConfig.DEFAULTS), first);

    assertThat(context(second, "a.test")).isNotSameAs(context(first, "a.test"));
    assertThat(context(second, "b.test")).isSameAs(context(first, "b.test"));
  }

  private TlsMaterial build(
      TollgateConfig config, TlsMaterial previous, List<ConfigError> warnings) {
    List<ConfigError> errors = new ArrayList<>();
    TlsMaterial material = TlsMaterial.build(config, errors, warnings, previous);
    assertThat(errors).isEmpty();
    return material;
  }

  /** Routes a.test and b.test, their certificate files written before the last load. */
  private TollgateConfig twoSettledRoutes() throws Exception {
    write(ROOT.issue(KeyType.EC_P256, "a.test"), dir, "a");
    write(ROOT.issue(KeyType.EC_P256, "b.test"), dir, "b");
    settle("a");
    settle("b");
    return twoRoutes(TlsConfig.DEFAULTS);
  }

  @Test
  void theSameRouteWithUnchangedFilesIsTakenOverWholeAndOnlyByItself() throws Exception {
    write(ROOT.issue(KeyType.EC_P256, "a.test", "b.test"), dir, "a");
    settle("a");
    // Two tenants serving the same certificate files: each keeps its own server TLS.
    RouteConfig a = offload(files(filesOf("a")), "a.test");
    RouteConfig b = offload(files(filesOf("a")), "b.test");
    TollgateConfig config = config(trusting(dir), TlsConfig.DEFAULTS, List.of(a, b));
    // The first load may read the shared files once per route, in parallel, and gives both
    // routes the certificate read first.
    TlsMaterial loaded = build(config, null);
    assertThat(loaded.serverTls("a.test").certificateFor("a.test", true))
        .isSameAs(loaded.serverTls("b.test").certificateFor("b.test", true));
    TlsMaterial first = build(config, loaded);

    // What a reload binds from unchanged tenant files: the very same route objects.
    TlsMaterial second = build(config, first);
    assertThat(second.serverTls("a.test")).isSameAs(first.serverTls("a.test"));
    assertThat(second.serverTls("b.test")).isSameAs(first.serverTls("b.test"));
    assertThat(second.serverTls("b.test")).isNotSameAs(second.serverTls("a.test"));
    assertThat(context(second, "b.test")).isNotSameAs(context(second, "a.test"));

    // A route equal to a but another object (its tenant file was parsed again) is built anew
    // around the contexts it may share; b, untouched, is still taken over.
    RouteConfig aAgain = offload(files(filesOf("a")), "a.test");
    TlsMaterial third =
        build(config(trusting(dir), TlsConfig.DEFAULTS, List.of(aAgain, b)), second);
    assertThat(third.serverTls("a.test")).isNotSameAs(second.serverTls("a.test"));
    assertThat(context(third, "a.test")).isSameAs(context(second, "a.test"));
    assertThat(third.serverTls("b.test")).isSameAs(first.serverTls("b.test"));
  }

  @Test
  void aTakenOverRouteStillLoadsItsChangedCertificate() throws Exception {
    TollgateConfig config = twoSettledRoutes();
    TlsMaterial first = build(config, null);
    TlsMaterial second = build(config, first);
    assertThat(second.serverTls("a.test")).isSameAs(first.serverTls("a.test"));

    // The tenant file did not change (same route object), its certificate did (renewed in place).
    write(ROOT.issue(KeyType.EC_P256, "a.test"), dir, "a");
    TlsMaterial renewed = build(config, second);
    assertThat(renewed.serverTls("a.test")).isNotSameAs(first.serverTls("a.test"));
    assertThat(context(renewed, "a.test")).isNotSameAs(context(first, "a.test"));
    assertThat(renewed.serverTls("b.test")).isSameAs(first.serverTls("b.test"));
  }

  @Test
  void aRouteTakenOverWithoutLookingAtItsFilesStillSeesEachKindOfChange() throws Exception {
    // From the third load on, a. and b.'s certificates are known unchanged by the file watch
    // alone; each change below must still reach the next load, and only the route it touches.
    TollgateConfig config = twoSettledRoutes();
    TlsMaterial third = build(config, build(config, build(config, null)));

    // An OCSP response appears beside a.pem: it must be read (this one is garbage: an error).
    Files.write(dir.resolve("a.pem.ocsp"), new byte[] {1, 2, 3});
    List<ConfigError> errors = new ArrayList<>();
    TlsMaterial.build(config, errors, new ArrayList<>(), third);
    assertThat(errors)
        .singleElement()
        .satisfies(e -> assertThat(e.origin()).contains("a.pem.ocsp"));
    Files.delete(dir.resolve("a.pem.ocsp"));
    TlsMaterial fourth = build(config, build(config, third));
    assertThat(fourth.serverTls("a.test")).isSameAs(third.serverTls("a.test"));

    // The key rewritten with its own bytes, by a tool that keeps the time: read again, same key.
    Path key = dir.resolve("b.key");
    FileTime stamped = Files.getLastModifiedTime(key);
    Files.write(key, Files.readAllBytes(key));
    Files.setLastModifiedTime(key, stamped);
    TlsMaterial fifth = build(config, fourth);
    assertThat(context(fifth, "b.test")).isSameAs(context(fourth, "b.test"));

    // The chain renewed in place: a new context for a, b untouched.
    write(ROOT.issue(KeyType.EC_P256, "a.test"), dir, "a");
    settle("a");
    TlsMaterial renewed = build(config, build(config, fifth));
    assertThat(context(renewed, "a.test")).isNotSameAs(context(fifth, "a.test"));
    assertThat(context(renewed, "b.test")).isSameAs(context(fifth, "b.test"));
  }

  @Test
  void aCertificateAboutToExpireIsWarnedAboutOnEveryReload() throws Exception {
    write(
        INTERMEDIATE.leaf("a.test").notAfter(Instant.now().plus(Duration.ofDays(10))).issue(),
        dir,
        "a");
    write(ROOT.issue(KeyType.EC_P256, "b.test"), dir, "b");
    settle("a");
    settle("b");
    TollgateConfig config = twoRoutes(TlsConfig.DEFAULTS);
    TlsMaterial previous = null;
    for (int load = 0; load < 3; load++) {
      List<ConfigError> warnings = new ArrayList<>();
      TlsMaterial material = build(config, previous, warnings);
      // Taken over or not, the route's certificate is checked against the time of each load.
      assertThat(warnings)
          .as("load %d", load)
          .anySatisfy(w -> assertThat(w.message()).contains("expires on"));
      if (previous != null) {
        assertThat(material.serverTls("a.test")).isSameAs(previous.serverTls("a.test"));
      }
      previous = material;
    }
  }

  @Test
  void aKeyFileMadeReadableByOthersIsWarnedAboutAtTheNextReload() throws Exception {
    TollgateConfig config = twoSettledRoutes();
    List<ConfigError> quiet = new ArrayList<>();
    TlsMaterial second = build(config, build(config, build(config, null)), quiet);
    assertThat(quiet).isEmpty();

    // chmod changes neither size nor time; the reload must still see it.
    Files.setPosixFilePermissions(
        dir.resolve("a.key"), java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
    List<ConfigError> warnings = new ArrayList<>();
    build(config, second, warnings);
    assertThat(warnings)
        .singleElement()
        .satisfies(
            w -> {
              assertThat(w.origin()).isEqualTo(dir.resolve("a.key").toString());
              assertThat(w.message()).contains("readable by every user");
            });
  }
}
