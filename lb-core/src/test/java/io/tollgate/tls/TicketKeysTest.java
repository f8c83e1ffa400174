package io.tollgate.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tollgate.config.CertificatesConfig;
import io.tollgate.config.TlsConfig;
import io.tollgate.tls.TicketKeys.MalformedKeysException;
import io.tollgate.tls.TlsFixtures.Built;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TicketKeysTest {
  static String key(int fill) {
    byte[] bytes = new byte[48];
    java.util.Arrays.fill(bytes, (byte) fill);
    return Base64.getEncoder().encodeToString(bytes);
  }

  @Test
  void firstKeyIsCurrentCommentsAndBlankLinesIgnored() throws Exception {
    TicketKeys keys =
        TicketKeys.parse(
            "# current\n" + key(1) + "\n\n   # previous\n  " + key(2) + "  \r\n" + key(3) + "\n");
    assertThat(keys.size()).isEqualTo(3);
    assertThat(keys.key(0)).containsOnly(1);
    assertThat(keys.key(2)).containsOnly(3);
    var openSsl = keys.toOpenSsl();
    assertThat(openSsl).hasSize(3);
    assertThat(openSsl[0].name()).hasSize(16).containsOnly(1);
    assertThat(openSsl[0].hmacKey()).hasSize(16);
    assertThat(openSsl[0].aesKey()).hasSize(16);
  }

  @Test
  void badBase64IsReportedWithItsLine() {
    assertThatThrownBy(() -> TicketKeys.parse(key(1) + "\n# c\nnot*base64\n"))
        .isInstanceOf(MalformedKeysException.class)
        .hasMessageStartingWith("line 3: not base64")
        .satisfies(e -> assertThat(((MalformedKeysException) e).line()).isEqualTo(3));
  }

  @Test
  void wrongLengthIsReportedWithItsLine() {
    String shortKey = Base64.getEncoder().encodeToString(new byte[32]);
    assertThatThrownBy(() -> TicketKeys.parse("\n" + shortKey))
        .isInstanceOf(MalformedKeysException.class)
        .hasMessageContaining("line 2: decodes to 32 bytes")
        .hasMessageContaining("exactly 48 bytes");
  }

  @Test
  void fileWithoutKeysIsMalformed() {
    assertThatThrownBy(() -> TicketKeys.parse("# nothing\n\n"))
        .isInstanceOf(MalformedKeysException.class)
        .hasMessageContaining("no key");
  }

  @Test
  void randomKeysAreDistinct() {
    TicketKeys keys = TicketKeys.random(2);
    assertThat(keys.key(0)).hasSize(48).isNotEqualTo(keys.key(1));
  }

  @Test
  void malformedFileIsAConfigErrorAtFileAndLine(@TempDir Path dir) {
    Path file = TlsFixtures.writeString(dir.resolve("ticket.keys"), key(1) + "\nbroken\n");
    TlsConfig tls = new TlsConfig(true, Optional.of(file), 100, Duration.ofMinutes(5));
    Built built = TlsFixtures.build(TlsFixtures.config(CertificatesConfig.NONE, tls, List.of()));
    assertThat(built.errors())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.origin()).isEqualTo(file + ":2");
              assertThat(e.path()).isEqualTo("tollgate.tls.session-ticket-keys");
              assertThat(e.message()).startsWith("decodes to 4 bytes");
            });
  }

  @Test
  void aTicketKeyFileOthersCanReadIsAWarningNamingTheFile(@TempDir Path dir) throws Exception {
    Path file = TlsFixtures.writeString(dir.resolve("ticket.keys"), key(1) + "\n");
    java.nio.file.Files.setPosixFilePermissions(
        file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
    TlsConfig tls = new TlsConfig(true, Optional.of(file), 100, Duration.ofMinutes(5));
    Built built =
        TlsFixtures.build(TlsFixtures.config(CertificatesConfig.NONE, tls, List.of()))
            .assertNoErrors();
    assertThat(built.warnings())
        .anySatisfy(
            w -> {
              assertThat(w.origin()).isEqualTo(file.toString());
              assertThat(w.path()).isEqualTo("tollgate.tls.session-ticket-keys");
              assertThat(w.message()).contains("readable by every user").contains("chmod 600");
            });
  }
}
