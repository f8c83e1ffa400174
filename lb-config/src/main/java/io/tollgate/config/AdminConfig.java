package io.tollgate.config;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * {@code tollgate.admin}: the operator's HTTP endpoint (status, drain, reload, metrics). Off unless
 * an address is configured.
 *
 * @param address where the endpoint listens, e.g. {@code 127.0.0.1:9900}
 * @param tokenFile a file holding the bearer token that every request must carry (status and
 *     metrics name every tenant); required when the address is not a loopback address
 */
public record AdminConfig(HostPort address, Optional<Path> tokenFile) {
  public AdminConfig {
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(tokenFile, "tokenFile");
  }

  /**
   * Whether {@code host} only accepts connections from this machine: {@code localhost}, an IPv4
   * address in 127.0.0.0/8 or the IPv6 {@code ::1}. Host names other than localhost are not
   * resolved here and count as not loopback.
   */
  public static boolean isLoopback(String host) {
    String h = host.toLowerCase(java.util.Locale.ROOT);
    return h.equals("localhost")
        || h.matches("127(\\.\\d{1,3}){3}")
        || h.equals("::1")
        || h.matches("(0{1,4}:){7}0{0,3}1")
        || h.equals("0:0:0:0:0:0:0:1");
  }
}
