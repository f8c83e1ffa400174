package io.tollgate.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.config.ClientAuth;
import io.tollgate.config.ClientAuth.Mode;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SessionScopeTest {
  private static final Optional<ClientAuth> NONE = Optional.empty();
  private static final X509Certificate CA_X = TlsFixtures.ROOT.certificate();
  private static final X509Certificate CA_Y = TlsFixtures.OTHER_ROOT.certificate();

  private static Optional<ClientAuth> auth(Mode mode, String file) {
    return Optional.of(new ClientAuth(mode, Path.of(file)));
  }

  @Test
  void theScopeIsTheRoutesHostsAndClientAuthPolicyNotTheOrderOrTheFileName() {
    SessionScope scope = SessionScope.of(List.of("a.test", "*.b.test"), NONE, null);
    assertThat(SessionScope.of(List.of("*.b.test", "a.test"), NONE, List.of())).isEqualTo(scope);
    assertThat(scope.sessionIdContext()).hasSize(SessionScope.SESSION_ID_CONTEXT_SIZE);

    SessionScope x = SessionScope.of(List.of("m.test"), auth(Mode.REQUIRE, "x.pem"), List.of(CA_X));
    assertThat(
            SessionScope.of(
                List.of("m.test"), auth(Mode.REQUIRE, "/elsewhere/same-ca.pem"), List.of(CA_X)))
        .as("same CA certificates in another file")
        .isEqualTo(x);
    assertThat(
            SessionScope.of(List.of("m.test"), auth(Mode.REQUIRE, "xy.pem"), List.of(CA_X, CA_Y)))
        .isEqualTo(
            SessionScope.of(List.of("m.test"), auth(Mode.REQUIRE, "yx.pem"), List.of(CA_Y, CA_X)));
  }

  @Test
  void anyDifferenceInHostsModeOrCaGivesAnotherScope() {
    List<SessionScope> scopes =
        List.of(
            SessionScope.of(List.of("m.test"), NONE, null),
            SessionScope.of(List.of("n.test"), NONE, null),
            SessionScope.of(List.of("m.test", "n.test"), NONE, null),
            SessionScope.of(List.of("m.test"), auth(Mode.OPTIONAL, "x.pem"), List.of(CA_X)),
            SessionScope.of(List.of("m.test"), auth(Mode.REQUIRE, "x.pem"), List.of(CA_X)),
            SessionScope.of(List.of("m.test"), auth(Mode.REQUIRE, "y.pem"), List.of(CA_Y)),
            SessionScope.of(List.of("m.test"), auth(Mode.REQUIRE, "xy.pem"), List.of(CA_X, CA_Y)));
    assertThat(scopes.stream().map(s -> HexFormat.of().formatHex(s.sessionIdContext())))
        .doesNotHaveDuplicates();
  }

  @Test
  void routeTicketKeysAreDerivedPerScopeAndTheSameOnEveryNode() throws Exception {
    TicketKeys file = TicketKeys.parse(TicketKeysTest.key(1) + "\n" + TicketKeysTest.key(2));
    TicketKeys sameFileElsewhere =
        TicketKeys.parse(TicketKeysTest.key(1) + "\n" + TicketKeysTest.key(2));
    SessionScope a = SessionScope.of(List.of("a.test"), NONE, null);
    SessionScope b = SessionScope.of(List.of("b.test"), NONE, null);
    TicketKeys forA = file.forScope(a);
    assertThat(forA.size()).isEqualTo(2);
    assertThat(forA.key(0)).isEqualTo(sameFileElsewhere.forScope(a).key(0));
    assertThat(forA.key(1)).isEqualTo(sameFileElsewhere.forScope(a).key(1));
    assertThat(forA.key(0)).isNotEqualTo(file.forScope(b).key(0)).isNotEqualTo(file.key(0));
    assertThat(forA.key(0)).isNotEqualTo(forA.key(1));
  }

  @Test
  void hkdfMatchesRfc5869TestCase1() {
    HexFormat hex = HexFormat.of();
    byte[] okm =
        Hkdf.sha256(
            hex.parseHex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
            hex.parseHex("000102030405060708090a0b0c"),
            hex.parseHex("f0f1f2f3f4f5f6f7f8f9"),
            42);
    assertThat(hex.formatHex(okm))
        .isEqualTo(
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db0"
                + "2d56ecc4c5bf34007208d5b887185865");
  }
}
