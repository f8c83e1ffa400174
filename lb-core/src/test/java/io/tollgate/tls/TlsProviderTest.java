package io.tollgate.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;
import java.util.List;
import org.junit.jupiter.api.Test;

class TlsProviderTest {
  @Test
  void boringSslByDefaultWhenItLoadsAndTheJdkWhenForced() {
    TlsProvider chosen = Providers.with("", TlsProvider::select);
    assertThat(chosen.sslProvider())
        .isEqualTo(OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK);
    TlsProvider forced = Providers.with("JDK", TlsProvider::select);
    assertThat(forced.sslProvider()).isEqualTo(SslProvider.JDK);
    assertThat(forced.isOpenSsl()).isFalse();
    assertThat(forced.describe()).startsWith("JDK");
  }

  @Test
  void bothProvidersImplementTheDefaultCipherSuites() {
    for (String provider : Providers.available()) {
      TlsProvider tls = Providers.with(provider, TlsProvider::select);
      assertThat(tls.unsupportedCipherSuites(CipherSuites.TLS12_DEFAULT)).as(provider).isEmpty();
      assertThat(tls.unsupportedCipherSuites(List.of("TLS_NOPE_WITH_NOTHING")))
          .containsExactly("TLS_NOPE_WITH_NOTHING");
    }
  }

  @Test
  void tls13SuitesAreAlwaysAppended() {
    assertThat(CipherSuites.enabled(List.of()))
        .startsWith(CipherSuites.TLS12_DEFAULT.toArray(new String[0]))
        .endsWith(CipherSuites.TLS13.toArray(new String[0]));
    assertThat(CipherSuites.enabled(List.of("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")))
        .hasSize(1 + CipherSuites.TLS13.size());
  }
}
