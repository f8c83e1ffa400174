package io.tollgate.config;

import java.util.Locale;
import java.util.Objects;

/**
 * The PROXY protocol header Tollgate writes first on every connection to a pool's servers ({@code
 * tollgate.pools.NAME.proxy-protocol} and {@code proxy-protocol-tlvs}), and on its health checks of
 * them.
 *
 * @param version off (no header, the default), v1 (text) or v2 (binary, with TLVs)
 * @param authority v2: send {@code PP2_TYPE_AUTHORITY} with the client's SNI (when it sent one)
 * @param alpn v2: send {@code PP2_TYPE_ALPN} with the ALPN protocol negotiated with the client
 *     (offload and reencrypt; passthrough negotiates nothing, so never there)
 * @param uniqueId v2: send {@code PP2_TYPE_UNIQUE_ID} with the connection id of the logs
 * @param ssl v2: send {@code PP2_TYPE_SSL} for connections whose TLS Tollgate terminated (offload
 *     and reencrypt)
 * @param crc32c v2: send {@code PP2_TYPE_CRC32C}, a checksum of the whole header
 */
public record BackendProxyProtocol(
    Version version,
    boolean authority,
    boolean alpn,
    boolean uniqueId,
    boolean ssl,
    boolean crc32c) {

  /** {@code proxy-protocol = off | v1 | v2}. */
  public enum Version {
    OFF,
    V1,
    V2;

    public String configName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** No header; the TLV switches at their defaults. */
  public static final BackendProxyProtocol OFF =
      new BackendProxyProtocol(Version.OFF, true, true, true, true, false);

  public BackendProxyProtocol {
    Objects.requireNonNull(version, "version");
  }

  public boolean enabled() {
    return version != Version.OFF;
  }

  /** This setting with another version, the TLV switches unchanged. */
  public BackendProxyProtocol withVersion(Version v) {
    return new BackendProxyProtocol(v, authority, alpn, uniqueId, ssl, crc32c);
  }
}
