package io.tollgate.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tollgate.config.HostPort;
import io.tollgate.config.RouteMode;
import io.tollgate.pool.Backend;
import io.tollgate.pool.Pool;
import io.tollgate.route.Router.MatchKind;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class RouterTest {
  private static final Route PASS = route("pass.test");
  private static final Route WILD = route("*.wild.test");
  private static final Route DEEP = route("*.deep.wild.test");
  private static final Route FALLBACK = route("default");

  private static Route route(String name) {
    Backend b =
        new Backend(HostPort.parse("127.0.0.1:1"), new InetSocketAddress("127.0.0.1", 1), 1);
    return new Route(name, RouteMode.PASSTHROUGH, new Pool(name, List.of(b), 1));
  }

  private static Router router(Route defaultRoute) {
    return Router.builder()
        .host("pass.test", PASS)
        .host("www.pass.test", PASS)
        .host("*.wild.test", WILD)
        .host("*.deep.wild.test", DEEP)
        .host("exact.deep.wild.test", PASS)
        .defaultRoute(defaultRoute)
        .build();
  }

  @Test
  void exactNamesMatchThemselvesOnly() {
    Router r = router(null);
    assertThat(r.route("pass.test"))
        .isEqualTo(new Router.Match(PASS, MatchKind.EXACT, "pass.test"));
    assertThat(r.route("www.pass.test").route()).isSameAs(PASS);
    assertThat(r.route("other.pass.test").kind()).isEqualTo(MatchKind.REJECT);
  }

  @Test
  void wildcardMatchesOneOrMoreLabelsButNotTheBareSuffix() {
    Router r = router(null);
    assertThat(r.route("a.wild.test"))
        .isEqualTo(new Router.Match(WILD, MatchKind.WILDCARD, "*.wild.test"));
    assertThat(r.route("a.b.wild.test").route()).isSameAs(WILD);
    assertThat(r.route("wild.test").kind()).isEqualTo(MatchKind.REJECT);
    assertThat(r.route("notwild.test").kind()).isEqualTo(MatchKind.REJECT);
  }

  @Test
  void longestWildcardSuffixWinsAndExactBeatsWildcard() {
    Router r = router(null);
    assertThat(r.route("x.deep.wild.test").route()).isSameAs(DEEP);
    assertThat(r.route("y.x.deep.wild.test").route()).isSameAs(DEEP);
    assertThat(r.route("deep.wild.test").route()).isSameAs(WILD);
    assertThat(r.route("exact.deep.wild.test").kind()).isEqualTo(MatchKind.EXACT);
  }

  @Test
  void unmatchedAndMissingSniGoToTheDefaultRoute() {
    Router r = router(FALLBACK);
    assertThat(r.route("nobody.example"))
        .isEqualTo(new Router.Match(FALLBACK, MatchKind.DEFAULT, null));
    assertThat(r.route(null).route()).isSameAs(FALLBACK);
  }

  @Test
  void withoutDefaultRouteUnmatchedNamesAreRejected() {
    Router r = router(null);
    assertThat(r.route("nobody.example").route()).isNull();
    assertThat(r.route(null).kind()).isEqualTo(MatchKind.REJECT);
  }

  @Test
  void refusesTheSameHostTwice() {
    assertThatThrownBy(() -> Router.builder().host("a.test", PASS).host("a.test", WILD))
        .hasMessageContaining("a.test");
  }
}
