package io.tollgate.tls;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Hand-made ClientHellos for what the JDK client refuses to send. */
final class RawHellos {
  private RawHellos() {}

  /** A TLS 1.1 ClientHello (no supported_versions) with SNI and ECDHE/RSA CBC suites. */
  static byte[] tls11(String sni) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(new byte[] {3, 2}); // client_version TLS 1.1
    body.writeBytes(new byte[32]); // random
    body.write(0); // session id
    body.writeBytes(new byte[] {0, 6, (byte) 0xC0, 0x13, (byte) 0xC0, 0x09, 0x00, 0x2F});
    body.writeBytes(new byte[] {1, 0}); // compression: null
    ByteArrayOutputStream extensions = new ByteArrayOutputStream();
    byte[] name = sni.getBytes(StandardCharsets.US_ASCII);
    extensions.writeBytes(u16(0));
    extensions.writeBytes(u16(name.length + 5));
    extensions.writeBytes(u16(name.length + 3));
    extensions.write(0);
    extensions.writeBytes(u16(name.length));
    extensions.writeBytes(name);
    extensions.writeBytes(new byte[] {0, 10, 0, 4, 0, 2, 0, 0x17}); // groups: secp256r1
    extensions.writeBytes(new byte[] {0, 11, 0, 2, 1, 0}); // point formats: uncompressed
    body.writeBytes(u16(extensions.size()));
    body.writeBytes(extensions.toByteArray());

    ByteArrayOutputStream record = new ByteArrayOutputStream();
    record.writeBytes(new byte[] {22, 3, 1});
    record.writeBytes(u16(body.size() + 4));
    record.write(1); // client_hello
    record.write(0);
    record.writeBytes(u16(body.size()));
    record.writeBytes(body.toByteArray());
    return record.toByteArray();
  }

  private static byte[] u16(int v) {
    return new byte[] {(byte) (v >>> 8), (byte) v};
  }
}
