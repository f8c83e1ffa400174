package io.tollgate.config.bind;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.config.ConfigException;
import io.tollgate.config.ConfigFiles;
import io.tollgate.config.ConfigLoader;
import io.tollgate.config.HttpAction;
import io.tollgate.config.ListenerConfig;
import io.tollgate.config.ListenerProtocol;
import io.tollgate.config.RouteConfig;
import io.tollgate.config.TollgateConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12's routing keys: {@code listeners[].protocol} and {@code http}, and {@code
 * routes[].match-alpn}, {@code http-pool} and {@code http}: defaults, values as written, and
 * mistakes at their line.
 */
class HttpListenerAndMatchAlpnConfigTest {
  @TempDir Path dir;

  private static final String POOLS =
      """
      tollgate.pools {
        p.servers = ["10.0.0.1:443"]
        plain80.servers = ["10.0.0.1:80"]
        secure { servers = ["10.0.0.1:443"], tls { verify = false } }
      }
      """;
  private static final String MAIN =
      "tollgate.listeners = [ { name = main, address = \"127.0.0.1:8443\" } ]\n";

  private TollgateConfig load(String text) throws ConfigException {
    return ConfigLoader.load(new ConfigFiles(dir).write("tollgate.conf", POOLS + text));
  }

  private ConfigFiles.Loaded broken(String text) {
    return new ConfigFiles(dir).loadBroken(POOLS + text);
  }

  @Test
  void listenersAreTlsAndRedirectByDefaultAndReadAsWritten() throws Exception {
    ListenerConfig plain = load(MAIN).listeners().get(0);
    assertThat(plain.protocol()).isEqualTo(ListenerProtocol.TLS);
    assertThat(plain.http()).isEqualTo(HttpAction.REDIRECT_HTTPS);

    TollgateConfig c =
        load(
            """
            tollgate.listeners = [
              { name = main, address = "127.0.0.1:8443", protocol = TLS }
              { name = web, address = "127.0.0.1:8080", protocol = http }
              { name = strict, address = "127.0.0.1:8081", protocol = http, http = reject }
            ]
            """);
    assertThat(c.listeners())
        .extracting(ListenerConfig::protocol)
        .containsExactly(ListenerProtocol.TLS, ListenerProtocol.HTTP, ListenerProtocol.HTTP);
    assertThat(c.listeners())
        .extracting(ListenerConfig::http)
        .containsExactly(HttpAction.REDIRECT_HTTPS, HttpAction.REDIRECT_HTTPS, HttpAction.REJECT);
  }

  @Test
  void listenerProtocolAndHttpMistakesAreErrorsAtTheirLine() {
    var typo =
        broken(
            "tollgate.listeners = [ { name = web, address = \"127.0.0.1:80\", protocol = htp } ]\n");
    assertThat(typo.onlyErrorAt("protocol = htp", "tollgate.listeners[0].protocol").message())
        .isEqualTo(
            "\"htp\" is not a valid protocol (expected one of: tls, http) (did you mean \"http\"?)");

    var onTls =
        broken(
            "tollgate.listeners = [ { name = main, address = \"127.0.0.1:443\", http = reject } ]\n");
    assertThat(onTls.onlyErrorAt("http = reject", "tollgate.listeners[0].http").message())
        .startsWith("http applies to plain-HTTP listeners only");

    var action =
        broken(
            "tollgate.listeners = [ { name = w, address = \"127.0.0.1:80\", protocol = http,"
                + " http = redirect } ]\n");
    assertThat(action.onlyErrorAt("http = redirect", "tollgate.listeners[0].http").message())
        .startsWith(
            "\"redirect\" is not a valid http action (expected one of: redirect-https,"
                + " reject)");
  }

  @Test
  void routesReadMatchAlpnHttpPoolAndHttpAsWritten() throws Exception {
    TollgateConfig c =
        load(
            MAIN
                + """
                tollgate.routes = [
                  { hosts = ["shop.test"], pool = p, http-pool = plain80, http = reject }
                  { hosts = ["shop.test", "b.test"], pool = p, match-alpn = ["acme-tls/1"] }
                  { hosts = ["shop.test"], pool = p, match-alpn = ["h2", "http/1.1"] }
                  { hosts = ["b.test"], pool = p }
                ]
                """);
    List<RouteConfig> routes = c.routes();
    assertThat(routes.get(0).matchAlpn()).isEmpty();
    assertThat(routes.get(0).httpPool()).contains("plain80");
    assertThat(routes.get(0).http()).contains(HttpAction.REJECT);
    assertThat(routes.get(1).matchAlpn()).containsExactly("acme-tls/1");
    assertThat(routes.get(1).httpPool()).isEmpty();
    assertThat(routes.get(1).http()).isEqualTo(Optional.empty());
    // Routes sharing a host have names of their own (metrics, TLS contexts).
    assertThat(routes)
        .extracting(RouteConfig::name)
        .containsExactly("shop.test", "shop.test[acme-tls/1]", "shop.test[h2,http/1.1]", "b.test");
  }

  @Test
  void aProtocolClaimedTwiceForAHostIsAnErrorNamingTheEarlierRoute() {
    var loaded =
        broken(
            MAIN
                + """
                tollgate.routes = [
                  { hosts = ["a.test"], pool = p, match-alpn = ["h2"] }
                  { hosts = ["A.test"], pool = p, match-alpn = ["http/1.1", "h2"] }
                ]
                """);
    assertThat(loaded.onlyErrorAt("\"A.test\"", "tollgate.routes[1].hosts[0]").message())
        .isEqualTo(
            "\"A.test\" (a.test) with match-alpn \"h2\" is already claimed by tollgate.routes[0]"
                + " (\"a.test\") (expected each host and protocol in one route only)");
  }

  @Test
  void twoFallbackRoutesForAHostAreStillAnError() {
    var loaded =
        broken(
            MAIN
                + """
                tollgate.routes = [
                  { hosts = ["a.test"], pool = p, match-alpn = ["h2"] }
                  { hosts = ["a.test"], pool = p }
                  { hosts = ["a.test"], pool = p, max-connections = 5 }
                ]
                """);
    assertThat(loaded.onlyErrorAt("max-connections = 5", "tollgate.routes[2].hosts[0]").message())
        .contains("is already claimed by tollgate.routes[1]");
  }

  @Test
  void matchAlpnMistakesAreErrorsAtTheirLine() {
    var empty =
        broken(
            MAIN + "tollgate.routes = [ { hosts = [\"a.test\"], pool = p, match-alpn = [] } ]\n");
    assertThat(empty.onlyErrorAt("match-alpn = []", "tollgate.routes[0].match-alpn").message())
        .startsWith("match-alpn = [] matches no hello");

    var twice =
        broken(
            MAIN
                + "tollgate.routes = [ { hosts = [\"a.test\"], pool = p,"
                + " match-alpn = [\"h2\", \"h2\"] } ]\n");
    assertThat(twice.errors()).hasSize(1);
    assertThat(twice.errors().get(0).path()).isEqualTo("tollgate.routes[0].match-alpn[1]");
    assertThat(twice.errors().get(0).message()).contains("is listed twice");

    var notAList =
        broken(
            MAIN + "tollgate.routes = [ { hosts = [\"a.test\"], pool = p, match-alpn = h2 } ]\n");
    assertThat(notAList.onlyErrorAt("match-alpn = h2", "tollgate.routes[0].match-alpn").message())
        .contains("expected a non-empty list of ALPN protocol names");
  }

  @Test
  void httpPoolMustNameAPlainPoolAndHttpKeysStayOffMatchAlpnRoutes() {
    var unknown =
        broken(
            MAIN + "tollgate.routes = [ { hosts = [\"a.test\"], pool = p, http-pool = plain } ]\n");
    assertThat(unknown.onlyErrorAt("http-pool = plain", "tollgate.routes[0].http-pool").message())
        .startsWith("no pool named \"plain\" (did you mean \"plain80\"?");

    var tls =
        broken(
            MAIN
                + "tollgate.routes = [ { hosts = [\"a.test\"], pool = p, http-pool = secure } ]\n");
    assertThat(tls.onlyErrorAt("http-pool = secure", "tollgate.routes[0].http-pool").message())
        .startsWith("pool \"secure\" has a tls block");

    var onAlpn =
        broken(
            MAIN
                + "tollgate.routes = [ { hosts = [\"a.test\"], pool = p, match-alpn = [\"h2\"],"
                + " http = reject } ]\n");
    assertThat(onAlpn.onlyErrorAt("http = reject", "tollgate.routes[0].http").message())
        .startsWith("http is not used on a route with match-alpn");
  }
}
