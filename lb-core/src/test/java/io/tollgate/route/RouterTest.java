package io.tollgate.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tollgate.config.HostPort;
import io.tollgate.config.RouteMode;
import io.tollgate.pool.Backend;
import io.tollgate.pool.Pool;
import io.tollgate.route.Router.MatchKind;
import java.net.InetSocketAddress;
import java.util.BitSet;
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

  private static Route alpnRoute(String name, String... protocols) {
    Route r = route(name);
    return new Route(
        name, r.mode(), r.pool(), null, null, List.of(protocols), null, null, null, null);
  }

  @Test
  void matchAlpnRoutesShareAHostAndTheClientsOrderPicks() {
    Route acme = alpnRoute("acme", "acme-tls/1");
    Route h2 = alpnRoute("h2", "h2");
    Route h1 = alpnRoute("h1", "http/1.1", "http/1.0");
    Router r =
        Router.builder()
            .host("pass.test", PASS)
            .host("pass.test", acme)
            .host("pass.test", h2)
            .host("pass.test", h1)
            .defaultRoute(FALLBACK)
            .build();
    assertThat(r.route("pass.test", List.of("acme-tls/1")))
        .isEqualTo(new Router.Match(acme, MatchKind.EXACT, "pass.test"));
    assertThat(r.route("pass.test", List.of("h2", "http/1.1")).route()).isSameAs(h2);
    assertThat(r.route("pass.test", List.of("http/1.1", "h2")).route()).isSameAs(h1);
    assertThat(r.route("pass.test", List.of("spdy/3", "http/1.0")).route()).isSameAs(h1);
    // No listed protocol, or no ALPN at all (plain HTTP): the host's route without match-alpn.
    assertThat(r.route("pass.test", List.of("spdy/3")).route()).isSameAs(PASS);
    assertThat(r.route("pass.test", List.of()).route()).isSameAs(PASS);
    assertThat(r.route("pass.test").route()).isSameAs(PASS);
    // Protocols are exact bytes.
    assertThat(r.route("pass.test", List.of("H2")).route()).isSameAs(PASS);
  }

  @Test
  void aHostWithOnlyMatchAlpnRoutesIsPassedOverForOtherHellos() {
    Route acme = alpnRoute("acme", "acme-tls/1");
    Route wildAcme = alpnRoute("wild-acme", "acme-tls/1");
    Router r =
        Router.builder()
            .host("a.wild.test", acme)
            .host("*.wild.test", WILD)
            .host("*.other.test", wildAcme)
            .defaultRoute(FALLBACK)
            .build();
    assertThat(r.route("a.wild.test", List.of("acme-tls/1")).route()).isSameAs(acme);
    assertThat(r.route("a.wild.test", List.of("h2")))
        .isEqualTo(new Router.Match(WILD, MatchKind.WILDCARD, "*.wild.test"));
    assertThat(r.route("x.other.test", List.of("acme-tls/1")))
        .isEqualTo(new Router.Match(wildAcme, MatchKind.WILDCARD, "*.other.test"));
    assertThat(r.route("x.other.test", List.of("h2")).kind()).isEqualTo(MatchKind.DEFAULT);
    assertThat(r.route("x.other.test").kind()).isEqualTo(MatchKind.DEFAULT);
  }

  @Test
  void aBuilderBuildsOneRouterAndCannotChangeItAfterwards() {
    Router.Builder b = Router.builder(1).host("a.test", PASS);
    Router r = b.build();
    // The router serves the builder's own maps: a later host would change a built router.
    assertThatThrownBy(() -> b.host("b.test", WILD)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> b.defaultRoute(FALLBACK)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(b::build).isInstanceOf(IllegalStateException.class);
    assertThat(r.route("a.test").route()).isSameAs(PASS);
    assertThat(r.route("b.test").kind()).isEqualTo(Router.MatchKind.REJECT);
  }

  @Test
  void aProtocolRoutedTwiceForAHostIsRefused() {
    Router.Builder b = Router.builder().host("pass.test", alpnRoute("a", "h2", "x"));
    assertThatThrownBy(() -> b.host("pass.test", alpnRoute("b", "h2")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("routed twice for ALPN h2");
  }

  @Test
  void aRouteBoundToListenersIsSkippedOnTheOthers() {
    BitSet onlyFirst = new BitSet();
    onlyFirst.set(0);
    Route tenant =
        new Route(
            "deep.wild.test", RouteMode.PASSTHROUGH, PASS.pool(), null, null, onlyFirst, null);
    Router r =
        Router.builder()
            .host("exact.deep.wild.test", tenant)
            .host("*.wild.test", WILD)
            .defaultRoute(FALLBACK)
            .build();
    Router.Match vip = Router.fallback(route("vip"));
    assertThat(r.route("exact.deep.wild.test", 0, r.fallback()).route()).isSameAs(tenant);
    // On listener 1 the name is not the tenant's: the next wildcard, else that listener's default.
    assertThat(r.route("exact.deep.wild.test", 1, vip).route()).isSameAs(WILD);
    Router noWildcard = Router.builder().host("exact.deep.wild.test", tenant).build();
    assertThat(noWildcard.route("exact.deep.wild.test", 1, vip)).isSameAs(vip);
    assertThat(noWildcard.route("exact.deep.wild.test", 1, noWildcard.fallback()).kind())
        .isEqualTo(MatchKind.REJECT);
    assertThat(r.route(null, 1, vip)).isSameAs(vip);
  }
}
