package io.tollgate.config;

/**
 * Resource bounds ({@code tollgate.limits}).
 *
 * @param maxClientHello largest ClientHello, in bytes of TLS records, Tollgate buffers before it
 *     gives up with {@code hello_too_large}; between {@link #MIN_CLIENT_HELLO} and
 *     {@link #MAX_CLIENT_HELLO}
 */
public record Limits(int maxClientHello) {
  /** Below this even a minimal TLS 1.3 hello with a post-quantum key share would not fit. */
  public static final int MIN_CLIENT_HELLO = 1024;
  /** Hard ceiling: as Envoy, never buffer more than 64 KiB of hello per connection. */
  public static final int MAX_CLIENT_HELLO = 64 * 1024;

  public Limits {
    if (maxClientHello < MIN_CLIENT_HELLO || maxClientHello > MAX_CLIENT_HELLO) {
      throw new IllegalArgumentException("maxClientHello out of range: " + maxClientHello);
    }
  }
}
