package io.tollgate.inspect;

import io.netty.buffer.ByteBuf;
import io.tollgate.inspect.ParseResult.Done;
import io.tollgate.inspect.ParseResult.Failed;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * Finds and parses the TLS ClientHello at the start of a buffer without consuming it.
 *
 * <p>{@link #parse} looks at the bytes between the reader and writer index with absolute gets: it
 * never moves the indices, never copies, retains or releases the buffer. It is stateless (each call
 * re-parses from the reader index; hellos are small), so one instance may be shared by all channels
 * and threads, and calling it again as bytes accumulate is always correct. A result other than
 * {@link ParseResult.NeedMore} is final for that byte prefix. (The inspector uses a package-private
 * variant that resumes the record walk, see {@code Progress}.)
 *
 * <p>What is accepted:
 *
 * <ul>
 *   <li>First byte 22 (handshake), otherwise {@link HelloFailure#NOT_TLS}, decided from that one
 *       byte (plaintext HTTP, the SSLv2-compatible hello of RFC 5246 Appendix E.2 with the high bit
 *       set, other record types).
 *   <li>Records of type 22, major version 3, length 1..2^14 (RFC 8446 §5.1); the handshake message
 *       may span any number of consecutive handshake records. Anything else is {@link
 *       HelloFailure#BAD_HELLO}.
 *   <li>Handshake type 1, ClientHello body per RFC 8446 §4.1.2, optional extensions block that
 *       exactly fills the message, no duplicate extension types (RFC 8446 §4.2).
 *   <li>{@code server_name} (RFC 6066 §3), {@code application_layer_protocol_negotiation} (RFC 7301
 *       §3.1), {@code supported_versions} (RFC 8446 §4.2.1), {@code signature_algorithms} and
 *       {@code supported_groups} (RFC 8446 §4.2.3, §4.2.7) are decoded and checked, keeping only
 *       what {@link ClientHello} holds (capped ALPN names, bits for the ECDSA decision); other
 *       extensions are skipped. See {@link ClientHello} for the SNI rules (an IP literal counts as
 *       no SNI; an invalid host name is {@link HelloFailure#BAD_HELLO}).
 *   <li>Bytes after the record that completes the hello (pipelined data, or handshake bytes after
 *       the ClientHello inside its last record) are ignored.
 * </ul>
 *
 * <p>{@code maxHelloBytes} bounds both the handshake message (4-byte header included) and the
 * record bytes that carry it; both are checked from the declared lengths, before the bytes arrive,
 * so a client cannot make the inspector buffer more than that.
 *
 * <p>Cost: {@link #parse(ByteBuf)} walks every record header of the hello, so re-parsing a hello
 * sent as 1-byte records in 1-byte reads is quadratic; {@link ClientHelloInspector} avoids that by
 * resuming the walk.
 */
public final class ClientHelloParser {
  static final int RECORD_HEADER = 5;
  static final int HANDSHAKE_HEADER = 4;

  /** RFC 8446 §5.1: TLSPlaintext.length MUST NOT exceed 2^14. */
  static final int MAX_RECORD_PAYLOAD = 1 << 14;

  private static final int CONTENT_HANDSHAKE = 22;
  private static final int CLIENT_HELLO = 1;
  private static final int EXT_SERVER_NAME = 0;
  private static final int EXT_ALPN = 16;
  private static final int EXT_SUPPORTED_VERSIONS = 43;
  private static final int EXT_SIGNATURE_ALGORITHMS = 13;
  private static final int EXT_SUPPORTED_GROUPS = 10;

  /** RFC 5246 §7.4.1.4.1 SignatureAlgorithm ecdsa(3): the low byte of a (hash, sig) pair. */
  private static final int SIG_ECDSA = 3;

  private static final int NAME_TYPE_HOST_NAME = 0;

  private final int maxHelloBytes;

  /**
   * @param maxHelloBytes upper bound for the hello's handshake message and for the record bytes
   *     (headers included) carrying it
   */
  public ClientHelloParser(int maxHelloBytes) {
    if (maxHelloBytes < RECORD_HEADER + HANDSHAKE_HEADER) {
      throw new IllegalArgumentException("maxHelloBytes too small: " + maxHelloBytes);
    }
    this.maxHelloBytes = maxHelloBytes;
  }

  /** Parses the bytes from {@code in.readerIndex()} to {@code in.writerIndex()}; never throws. */
  public ParseResult parse(ByteBuf in) {
    return parse(in, new Progress());
  }

  /**
   * Like {@link #parse(ByteBuf)}, but resumes the record walk where an earlier call with the same
   * {@code progress} stopped instead of re-walking every record header: for a caller (the
   * inspector) that calls again on the same, only-growing byte stream. This keeps a hello sent as
   * many tiny records in many tiny reads linear instead of quadratic.
   */
  ParseResult parse(ByteBuf in, Progress progress) {
    try {
      return parseRecords(in, in.readerIndex(), in.writerIndex(), progress);
    } catch (MalformedHelloException e) {
      return new Failed(HelloFailure.BAD_HELLO, e.getMessage());
    } catch (RuntimeException e) {
      // Not expected (every length is checked); a bug must not become an unhandled exception.
      return new Failed(HelloFailure.BAD_HELLO, "unexpected parser error: " + e);
    }
  }

  /**
   * How far the record walk got over complete, already validated records. Offsets are relative to
   * the reader index, so it stays valid while the caller only appends to the buffer.
   */
  static final class Progress {
    private int offset; // start of the first record not yet walked completely
    private int records;
    private long messageBytes;
    private int headerBytes;
    private int declaredLength;
  }

  private ParseResult parseRecords(ByteBuf in, int start, int end, Progress progress) {
    if (end - start < 1) {
      return ParseResult.needMore();
    }
    int first = in.getUnsignedByte(start);
    if (first != CONTENT_HANDSHAKE) {
      return new Failed(HelloFailure.NOT_TLS, describeNotTls(in, start, end, first));
    }
    int pos = start + progress.offset;
    int records = progress.records;
    long messageBytes = progress.messageBytes; // handshake bytes in the walked records
    int headerBytes = progress.headerBytes; // how many of the 4 handshake header bytes were seen
    int declaredLength = progress.declaredLength;
    while (true) {
      int available = end - pos;
      if (available < 1) {
        return ParseResult.needMore();
      }
      int type = in.getUnsignedByte(pos);
      if (type != CONTENT_HANDSHAKE) {
        return bad(
            "record "
                + (records + 1)
                + " has content type "
                + type
                + " before the ClientHello is complete");
      }
      if (available < 2) {
        return ParseResult.needMore();
      }
      int major = in.getUnsignedByte(pos + 1);
      if (major != 3) {
        return bad("record " + (records + 1) + " has version major " + major + ", expected 3");
      }
      if (available < RECORD_HEADER) {
        return ParseResult.needMore();
      }
      int length = in.getUnsignedShort(pos + 3);
      if (length == 0) {
        // RFC 8446 §5.1: zero-length handshake fragments MUST NOT be sent.
        return bad("zero-length handshake record " + (records + 1));
      }
      if (length > MAX_RECORD_PAYLOAD) {
        return bad("record " + (records + 1) + " length " + length + " exceeds 2^14");
      }
      long recordEnd = (long) pos + RECORD_HEADER + length;
      if (recordEnd - start > maxHelloBytes) {
        return tooLarge(
            "ClientHello records need more than "
                + (recordEnd - start)
                + " bytes, limit "
                + maxHelloBytes);
      }
      records++;
      int fragment = pos + RECORD_HEADER;
      int fragmentAvailable = (int) Math.min(length, (long) end - fragment);
      for (int i = 0; headerBytes < HANDSHAKE_HEADER && i < fragmentAvailable; i++) {
        int b = in.getUnsignedByte(fragment + i);
        if (headerBytes == 0 && b != CLIENT_HELLO) {
          return bad("handshake type " + b + " is not ClientHello(1)");
        }
        if (headerBytes > 0) {
          declaredLength = declaredLength << 8 | b;
        }
        headerBytes++;
        if (headerBytes == HANDSHAKE_HEADER
            && (long) declaredLength + HANDSHAKE_HEADER > maxHelloBytes) {
          return tooLarge(
              "ClientHello declares " + declaredLength + " bytes, limit " + maxHelloBytes);
        }
      }
      messageBytes += length;
      boolean messageComplete =
          headerBytes == HANDSHAKE_HEADER && messageBytes >= HANDSHAKE_HEADER + declaredLength;
      if (fragmentAvailable < length) {
        return ParseResult.needMore(); // also when complete: recordBytes counts the whole record
      }
      if (messageComplete) {
        return parseMessage(in, start, records, declaredLength, (int) (recordEnd - start));
      }
      pos = (int) recordEnd;
      // This record is complete and valid: the next call may start after it.
      progress.offset = pos - start;
      progress.records = records;
      progress.messageBytes = messageBytes;
      progress.headerBytes = headerBytes;
      progress.declaredLength = declaredLength;
    }
  }

  private ParseResult parseMessage(
      ByteBuf in, int start, int records, int declaredLength, int recordBytes) {
    int[] fragmentStart = new int[records];
    int[] fragmentEnd = new int[records];
    int pos = start;
    int messageOffset = 0;
    for (int r = 0; r < records; r++) {
      int length = in.getUnsignedShort(pos + 3);
      fragmentStart[r] = pos + RECORD_HEADER;
      messageOffset += length;
      fragmentEnd[r] = messageOffset;
      pos += RECORD_HEADER + length;
    }
    HandshakeReader reader =
        new HandshakeReader(in, fragmentStart, fragmentEnd, HANDSHAKE_HEADER + declaredLength);
    reader.skip(HANDSHAKE_HEADER, "handshake header");
    return new Done(parseBody(reader, recordBytes, records));
  }

  /** RFC 8446 §4.1.2 ClientHello (the TLS 1.2 layout of RFC 5246 §7.4.1.2 is the same). */
  private static ClientHello parseBody(HandshakeReader r, int recordBytes, int records) {
    int legacyVersion = r.u16("legacy_version");
    r.skip(32, "random");
    int sessionId = r.u8("legacy_session_id length");
    if (sessionId > 32) {
      throw new MalformedHelloException("legacy_session_id length " + sessionId + " > 32");
    }
    r.skip(sessionId, "legacy_session_id");
    int suites = r.u16("cipher_suites length");
    if (suites < 2 || suites % 2 != 0) {
      throw new MalformedHelloException("cipher_suites length " + suites + " not even and >= 2");
    }
    boolean ecdsaSuite = false;
    for (int i = 0; i < suites; i += 2) {
      ecdsaSuite |= isEcdsaSuite(r.u16("cipher suite"));
    }
    int compression = r.u8("legacy_compression_methods length");
    if (compression < 1) {
      throw new MalformedHelloException("no legacy_compression_methods");
    }
    r.skip(compression, "legacy_compression_methods");

    String sni = null;
    Alpn alpn = Alpn.NONE;
    List<Integer> versions = null;
    Signatures signatures = null;
    int groups = -1; // -1: no supported_groups extension
    if (r.remaining() > 0) {
      int extensionsLength = r.u16("extensions length");
      if (extensionsLength != r.remaining()) {
        throw new MalformedHelloException(
            "extensions length "
                + extensionsLength
                + " does not match the "
                + r.remaining()
                + " bytes left in the ClientHello");
      }
      BitSet seen = new BitSet();
      while (r.remaining() > 0) {
        int type = r.u16("extension type");
        int length = r.u16("extension length");
        if (seen.get(type)) {
          // RFC 8446 §4.2: there MUST NOT be more than one extension of the same type.
          throw new MalformedHelloException("duplicate extension " + type);
        }
        seen.set(type);
        int saved = r.enter(length, "extension", type);
        switch (type) {
          case EXT_SERVER_NAME -> sni = parseServerName(r);
          case EXT_ALPN -> alpn = parseAlpn(r);
          case EXT_SUPPORTED_VERSIONS -> versions = parseSupportedVersions(r);
          case EXT_SIGNATURE_ALGORITHMS -> signatures = parseSignatureAlgorithms(r);
          case EXT_SUPPORTED_GROUPS -> groups = parseSupportedGroups(r);
          default -> r.skip(length, "extension body"); // fits: enter checked it
        }
        r.exit(saved, "extension", type);
      }
    }
    if (versions == null) {
      versions = List.of(legacyVersion);
    }
    return new ClientHello(
        sni,
        alpn.names(),
        alpn.omitted(),
        versions,
        recordBytes,
        records,
        ecdsaSupport(versions.contains(ClientHello.TLS_1_3), ecdsaSuite, signatures, groups));
  }

  /**
   * See {@link EcdsaSupport}. Without {@code signature_algorithms}, TLS 1.2 clients accept the
   * suite's own algorithm (RFC 5246 §7.4.1.4.1); a TLS 1.3 client without it cannot complete a
   * certificate handshake anyway, so any curve is as good. Without {@code supported_groups}, RFC
   * 8422 §4 leaves the curve to the server.
   */
  private static EcdsaSupport ecdsaSupport(
      boolean tls13, boolean ecdsaSuite, Signatures signatures, int groups) {
    int tls13Curves = signatures == null ? EcdsaSupport.ALL_CURVES : signatures.tls13Curves();
    boolean tls12Ecdsa = ecdsaSuite && (signatures == null || signatures.tls12Ecdsa());
    int tls12Curves = tls12Ecdsa ? (groups < 0 ? EcdsaSupport.ALL_CURVES : groups) : 0;
    return new EcdsaSupport(tls13, tls13 ? tls13Curves : 0, tls12Curves);
  }

  /**
   * What {@code signature_algorithms} says about ECDSA certificates.
   *
   * @param tls13Curves {@link EcdsaSupport.Curve} bits of the TLS 1.3 ECDSA schemes offered
   * @param tls12Ecdsa whether a TLS 1.2 (hash, ecdsa) pair with a hash engines implement (SHA-1,
   *     SHA-224, SHA-256, SHA-384, SHA-512) is offered
   */
  private record Signatures(int tls13Curves, boolean tls12Ecdsa) {}

  /** RFC 8446 §4.2.3 {@code SignatureScheme supported_signature_algorithms<2..2^16-2>}. */
  private static Signatures parseSignatureAlgorithms(HandshakeReader r) {
    int length = r.u16("signature_algorithms length");
    if (length < 2 || length % 2 != 0) {
      throw new MalformedHelloException("signature_algorithms length " + length);
    }
    int saved = r.enter(length, "signature_algorithms");
    int tls13Curves = 0;
    boolean tls12 = false;
    while (r.remaining() > 0) {
      int scheme = r.u16("signature scheme");
      // 0x0403/0x0503/0x0603 are both TLS 1.3's ecdsa_secp*_sha* and TLS 1.2's (hash, ecdsa)
      // pairs; 0x0203 (SHA-1) and 0x0303 (SHA-224) exist in 1.2 only. GREASE and private values
      // have other hash bytes.
      int hash = scheme >> 8;
      tls12 |= (scheme & 0xff) == SIG_ECDSA && hash >= 2 && hash <= 6;
      tls13Curves |= EcdsaSupport.Curve.bitOfTls13Scheme(scheme);
    }
    r.exit(saved, "signature_algorithms");
    return new Signatures(tls13Curves, tls12);
  }

  /** RFC 8446 §4.2.7 {@code NamedGroup named_group_list<2..2^16-1>}: the ECDSA curves in it. */
  private static int parseSupportedGroups(HandshakeReader r) {
    int length = r.u16("supported_groups length");
    if (length < 2 || length % 2 != 0) {
      throw new MalformedHelloException("supported_groups length " + length);
    }
    int saved = r.enter(length, "supported_groups");
    int curves = 0;
    while (r.remaining() > 0) {
      curves |= EcdsaSupport.Curve.bitOfGroup(r.u16("named group"));
    }
    r.exit(saved, "supported_groups");
    return curves;
  }

  /** TLS 1.2 suites authenticated by an ECDSA certificate (RFC 8422, RFC 5289, RFC 7905). */
  private static boolean isEcdsaSuite(int suite) {
    return switch (suite) {
      case 0xC02B, 0xC02C, 0xCCA9, 0xC009, 0xC00A, 0xC023, 0xC024, 0xC0AC, 0xC0AD, 0xC0AE, 0xC0AF ->
          true;
      default -> false;
    };
  }

  /**
   * RFC 6066 §3 ServerNameList. Returns the normalised host_name, or {@code null} for an IP
   * literal; rejects more than one host_name ("MUST NOT contain more than one name of the same
   * name_type"). Entries of other name types are skipped as opaque 16-bit-length vectors.
   */
  private static String parseServerName(HandshakeReader r) {
    int listLength = r.u16("server_name_list length");
    if (listLength == 0) {
      throw new MalformedHelloException("empty server_name_list");
    }
    int saved = r.enter(listLength, "server_name_list");
    String host = null;
    boolean seenHostName = false;
    while (r.remaining() > 0) {
      int nameType = r.u8("server name type");
      int nameLength = r.u16("server name length");
      if (nameType != NAME_TYPE_HOST_NAME) {
        r.skip(nameLength, "server name of type " + nameType);
        continue;
      }
      if (seenHostName) {
        throw new MalformedHelloException("more than one host_name in server_name");
      }
      seenHostName = true;
      if (nameLength == 0) {
        throw new MalformedHelloException("empty host_name");
      }
      host = HostNames.normalise(r.bytes(nameLength, "host_name"));
    }
    r.exit(saved, "server_name_list");
    return host;
  }

  /** The ALPN names kept from a hello (see {@link ClientHello#alpn}) and how many were not. */
  private record Alpn(List<String> names, int omitted) {
    static final Alpn NONE = new Alpn(List.of(), 0);
  }

  /**
   * The ALPN offers nearly every client makes, shared: the connection keeps its hello's names for
   * its whole life (the access log prints them at close), and one list of two strings per idle
   * browser connection is ~120 bytes of heap.
   */
  private static final List<List<String>> COMMON_ALPN =
      List.of(
          List.of("h2", "http/1.1"),
          List.of("http/1.1"),
          List.of("h2"),
          List.of("http/1.1", "h2"),
          List.of("acme-tls/1"));

  static List<String> shared(List<String> names) {
    for (List<String> common : COMMON_ALPN) {
      if (common.equals(names)) {
        return common;
      }
    }
    return List.copyOf(names);
  }

  /**
   * RFC 7301 §3.1 ProtocolNameList: non-empty list of non-empty names. Every name is checked, but
   * only the first {@link ClientHello#MAX_ALPN_NAMES} (within {@link ClientHello#MAX_ALPN_BYTES})
   * become strings: a 16 KiB list of 1-byte names must not cost thousands of objects.
   */
  private static Alpn parseAlpn(HandshakeReader r) {
    int listLength = r.u16("ALPN protocol_name_list length");
    if (listLength == 0) {
      throw new MalformedHelloException("empty ALPN protocol_name_list");
    }
    int saved = r.enter(listLength, "ALPN protocol_name_list");
    List<String> names = new ArrayList<>();
    int keptBytes = 0;
    int omitted = 0;
    while (r.remaining() > 0) {
      int length = r.u8("ALPN protocol name length");
      if (length == 0) {
        throw new MalformedHelloException("empty ALPN protocol name");
      }
      // Keep a prefix of the client's order: once one name does not fit, none after it is kept.
      if (omitted == 0
          && names.size() < ClientHello.MAX_ALPN_NAMES
          && keptBytes + length <= ClientHello.MAX_ALPN_BYTES) {
        names.add(printable(r.bytes(length, "ALPN protocol name")));
        keptBytes += length;
      } else {
        r.skip(length, "ALPN protocol name");
        omitted++;
      }
    }
    r.exit(saved, "ALPN protocol_name_list");
    return new Alpn(shared(names), omitted);
  }

  /**
   * An ALPN name (opaque bytes, RFC 7301 §3.1) as text safe for any log: printable ASCII as is,
   * other bytes and the backslash as {@code \xNN}. Registered names are printable ASCII.
   */
  static String printable(byte[] name) {
    StringBuilder sb = null;
    for (int i = 0; i < name.length; i++) {
      int b = name[i] & 0xff;
      if (b < 0x20 || b >= 0x7f || b == '\\') {
        if (sb == null) {
          sb = new StringBuilder(name.length + 8);
          sb.append(new String(name, 0, i, StandardCharsets.US_ASCII));
        }
        sb.append("\\x")
            .append(Character.forDigit(b >> 4, 16))
            .append(Character.forDigit(b & 0xf, 16));
      } else if (sb != null) {
        sb.append((char) b);
      }
    }
    return sb == null ? new String(name, StandardCharsets.US_ASCII) : sb.toString();
  }

  /** RFC 8446 §4.2.1, ClientHello form {@code ProtocolVersion versions<2..254>}; drops GREASE. */
  private static List<Integer> parseSupportedVersions(HandshakeReader r) {
    int length = r.u8("supported_versions length");
    if (length < 2 || length % 2 != 0) {
      throw new MalformedHelloException("supported_versions length " + length);
    }
    int saved = r.enter(length, "supported_versions");
    List<Integer> versions = new ArrayList<>(length / 2);
    while (r.remaining() > 0) {
      int version = r.u16("supported version");
      if (!isGrease(version)) {
        versions.add(version);
      }
    }
    r.exit(saved, "supported_versions");
    return versions;
  }

  /** RFC 8701 §2: GREASE values are 0x?A?A with both bytes equal. */
  static boolean isGrease(int value) {
    return (value & 0x0f0f) == 0x0a0a && (value >> 8) == (value & 0xff);
  }

  private static String describeNotTls(ByteBuf in, int start, int end, int first) {
    if ((first & 0x80) != 0) {
      // RFC 5246 Appendix E.2: the SSLv2 record header has the high bit set, msg_type 1 follows.
      boolean hello = end - start >= 3 && in.getUnsignedByte(start + 2) == 1;
      return (hello ? "SSLv2-compatible ClientHello" : "SSLv2-style record header")
          + String.format(" (first byte 0x%02x)", first);
    }
    String excerpt = "\"" + Excerpts.of(in, start, Math.min(end, start + 16)) + "\"";
    return switch (first) {
      case 20 -> "change_cipher_spec record before the ClientHello";
      case 21 -> "alert record before the ClientHello";
      case 23 -> "application_data record before the ClientHello";
      default ->
          (first >= 'A' && first <= 'Z'
                  ? "plaintext, looks like HTTP: "
                  : String.format("first byte 0x%02x is not a TLS handshake record: ", first))
              + excerpt;
    };
  }

  private static Failed bad(String detail) {
    return new Failed(HelloFailure.BAD_HELLO, detail);
  }

  private static Failed tooLarge(String detail) {
    return new Failed(HelloFailure.HELLO_TOO_LARGE, detail);
  }
}
