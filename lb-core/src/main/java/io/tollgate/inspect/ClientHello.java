package io.tollgate.inspect;

import java.util.List;
import java.util.stream.Collectors;

/**
 * What Tollgate learns from a TLS ClientHello without terminating TLS.
 *
 * @param sni the normalised server name (lower case, no trailing dot) from the {@code server_name}
 *     extension (RFC 6066 §3), or {@code null} when the client sent none or sent an IP literal
 * @param alpn the ALPN protocol names offered, in client preference order (RFC 7301 §3.1); empty
 *     when the extension is absent
 * @param versions the versions from {@code supported_versions} (RFC 8446 §4.2.1) without GREASE
 *     values (RFC 8701), or the single {@code legacy_version} when that extension is absent; as
 *     wire values, e.g. {@code 0x0304} for TLS 1.3
 * @param recordBytes bytes of the TLS records (headers included) that carried the hello
 * @param records number of TLS records that carried the hello
 * @param supportsEcdsa whether an ECDSA server certificate would work for this client (it lists
 *     an ECDSA signature scheme, and for TLS 1.2 only, an ECDHE_ECDSA cipher suite); used to
 *     pick between a route's ECDSA and RSA certificates
 */
public record ClientHello(
    String sni,
    List<String> alpn,
    List<Integer> versions,
    int recordBytes,
    int records,
    boolean supportsEcdsa) {

  /** Wire value of TLS 1.3 (RFC 8446 §4.2.1). */
  public static final int TLS_1_3 = 0x0304;
  /** Wire value of TLS 1.2 (RFC 5246 Appendix A.1). */
  public static final int TLS_1_2 = 0x0303;

  public ClientHello {
    alpn = List.copyOf(alpn);
    versions = List.copyOf(versions);
    if (recordBytes < 0 || records < 0) {
      throw new IllegalArgumentException("negative size: " + recordBytes + "/" + records);
    }
  }

  /** Whether the client sent a usable server name. */
  public boolean hasSni() {
    return sni != null;
  }

  /** Whether the client offers TLS 1.3. */
  public boolean offersTls13() {
    return offersVersion(TLS_1_3);
  }

  /** Whether the client offers the given wire version, e.g. {@link #TLS_1_2}. */
  public boolean offersVersion(int version) {
    return versions.contains(version);
  }

  /** Whether the client offers the given ALPN protocol name, e.g. {@code "h2"}. */
  public boolean offersAlpn(String protocol) {
    return alpn.contains(protocol);
  }

  /** The highest offered version, as a wire value. */
  public int maxVersion() {
    return versions.stream().mapToInt(Integer::intValue).max().orElse(0);
  }

  /** Readable name of a wire version: {@code TLSv1.3}, ..., or hex for unknown values. */
  public static String versionName(int version) {
    return switch (version) {
      case 0x0304 -> "TLSv1.3";
      case 0x0303 -> "TLSv1.2";
      case 0x0302 -> "TLSv1.1";
      case 0x0301 -> "TLSv1";
      case 0x0300 -> "SSLv3";
      default -> String.format("0x%04x", version);
    };
  }

  @Override
  public String toString() {
    return "ClientHello[sni=" + (sni == null ? "-" : sni)
        + ", alpn=" + alpn
        + ", versions=" + versions.stream().map(ClientHello::versionName)
            .collect(Collectors.joining(", ", "[", "]"))
        + (supportsEcdsa ? ", ecdsa" : "")
        + ", " + recordBytes + " bytes in " + records + (records == 1 ? " record]" : " records]");
  }
}
