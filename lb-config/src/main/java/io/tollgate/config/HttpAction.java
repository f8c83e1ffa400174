package io.tollgate.config;

import java.util.Locale;

/**
 * What a plain-HTTP listener ({@code protocol = http}) answers a request with when its route has no
 * {@code http-pool} and it is not an ACME challenge Tollgate answers itself: {@code routes[].http},
 * else the listener's {@code http}.
 */
public enum HttpAction {
  /** {@code 301 Moved Permanently} to {@code https://HOST/PATH}, then close. */
  REDIRECT_HTTPS,
  /** {@code 403 Forbidden}, then close: this name is served over TLS only. */
  REJECT;

  /** The spelling used in config files ({@code redirect-https}). */
  public String configName() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
