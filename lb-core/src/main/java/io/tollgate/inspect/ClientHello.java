package io.tollgate.inspect;

import java.util.List;
import java.util.stream.Collectors;

/**
 * What Tollgate learns from a TLS ClientHello without terminating TLS.
 *
 * @param sni the normalised server name (lower case, no trailing dot) from the {@code server_name}
 *     extension (RFC 6066 §3), or {@code null} when the client sent none or sent an IP literal
 * @param alpn the first ALPN protocol names offered, in client preference order (RFC 7301 §3.1), at
 *     most {@link #MAX_ALPN_NAMES} of them and {@link #MAX_ALPN_BYTES} bytes on the wire (logs and
 *     metrics need no more, and a hostile hello may offer thousands); bytes outside printable
 *     ASCII, and the backslash, appear as {@code \xNN}; empty when the extension is absent
 * @param alpnOmitted how many further offered names were not kept
 * @param versions the versions from {@code supported_versions} (RFC 8446 §4.2.1) without GREASE
 *     values (RFC 8701), or the single {@code legacy_version} when that extension is absent; as
 *     wire values, e.g. {@code 0x0304} for TLS 1.3
 * @param recordBytes bytes of the TLS records (headers included) that carried the hello
 * @param records number of TLS records that carried the hello
 * @param ecdsa which ECDSA server certificates (by curve and version) would work for this client;
 *     used to pick between a route's ECDSA and RSA certificates
 *     <p>Nothing in it grows with the hello beyond those caps: SNI is one name of at most 253
 *     characters, versions at most 127 values, and signature algorithms, groups and cipher suites
 *     are reduced to the few bits of {@link EcdsaSupport}.
 */
public record ClientHello(
    String sni,
    List<String> alpn,
    int alpnOmitted,
    List<Integer> versions,
    int recordBytes,
    int records,
    EcdsaSupport ecdsa) {

  /** At most this many offered ALPN names are kept. */
  public static final int MAX_ALPN_NAMES = 16;

  /** At most this many bytes (on the wire) of offered ALPN names are kept. */
  public static final int MAX_ALPN_BYTES = 256;

  /** Wire value of TLS 1.3 (RFC 8446 §4.2.1). */
  public static final int TLS_1_3 = 0x0304;

  /** Wire value of TLS 1.2 (RFC 5246 Appendix A.1). */
  public static final int TLS_1_2 = 0x0303;

  public ClientHello {
    alpn = List.copyOf(alpn);
    versions = List.copyOf(versions);
    java.util.Objects.requireNonNull(ecdsa, "ecdsa");
    if (recordBytes < 0 || records < 0 || alpnOmitted < 0) {
      throw new IllegalArgumentException("negative size: " + recordBytes + "/" + records);
    }
  }

  /** Whether an ECDSA certificate on some curve would work for this client. */
  public boolean supportsEcdsa() {
    return ecdsa.any();
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
    return "ClientHello[sni="
        + (sni == null ? "-" : sni)
        + ", alpn="
        + alpn
        + (alpnOmitted > 0 ? " +" + alpnOmitted + " more" : "")
        + ", versions="
        + versions.stream()
            .map(ClientHello::versionName)
            .collect(Collectors.joining(", ", "[", "]"))
        + (supportsEcdsa() ? ", ecdsa" : "")
        + ", "
        + recordBytes
        + " bytes in "
        + records
        + (records == 1 ? " record]" : " records]");
  }
}
