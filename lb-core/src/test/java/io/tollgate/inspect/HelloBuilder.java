package io.tollgate.inspect;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Synthesises ClientHello messages with exactly the (possibly broken) fields a test wants. */
final class HelloBuilder {
  int legacyVersion = 0x0303;
  byte[] sessionId = new byte[32];
  byte[] cipherSuites = {0x13, 0x01, 0x13, 0x02};
  byte[] compression = {0};

  /** Null: no extensions block at all. */
  List<byte[]> extensions = new ArrayList<>();

  /** When set, replaces the computed extensions-block length. */
  Integer extensionsLengthOverride;

  HelloBuilder noExtensions() {
    extensions = null;
    return this;
  }

  HelloBuilder extension(int type, byte[] data) {
    return rawExtension(type, data.length, data);
  }

  /** An extension whose length field says {@code declaredLength} whatever the data. */
  HelloBuilder rawExtension(int type, int declaredLength, byte[] data) {
    extensions.add(concat(u16(type), u16(declaredLength), data));
    return this;
  }

  HelloBuilder sni(String... hostNames) {
    ByteArrayOutputStream list = new ByteArrayOutputStream();
    for (String name : hostNames) {
      byte[] bytes = name.getBytes(StandardCharsets.ISO_8859_1);
      list.writeBytes(concat(new byte[] {0}, u16(bytes.length), bytes));
    }
    return extension(0, vector16(list.toByteArray()));
  }

  HelloBuilder alpn(String... protocols) {
    ByteArrayOutputStream list = new ByteArrayOutputStream();
    for (String protocol : protocols) {
      byte[] bytes = protocol.getBytes(StandardCharsets.UTF_8);
      list.write(bytes.length);
      list.writeBytes(bytes);
    }
    return extension(16, vector16(list.toByteArray()));
  }

  HelloBuilder versions(int... versions) {
    ByteArrayOutputStream list = new ByteArrayOutputStream();
    list.write(versions.length * 2);
    for (int version : versions) {
      list.writeBytes(u16(version));
    }
    return extension(43, list.toByteArray());
  }

  HelloBuilder signatureAlgorithms(int... schemes) {
    ByteArrayOutputStream list = new ByteArrayOutputStream();
    for (int scheme : schemes) {
      list.writeBytes(u16(scheme));
    }
    return extension(13, vector16(list.toByteArray()));
  }

  HelloBuilder cipherSuites(int... suites) {
    ByteArrayOutputStream list = new ByteArrayOutputStream();
    for (int suite : suites) {
      list.writeBytes(u16(suite));
    }
    cipherSuites = list.toByteArray();
    return this;
  }

  /** The handshake message: type 1, 24-bit length, body. */
  byte[] message() {
    return message(1);
  }

  byte[] message(int handshakeType) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(u16(legacyVersion));
    body.writeBytes(new byte[32]);
    body.write(sessionId.length);
    body.writeBytes(sessionId);
    body.writeBytes(vector16(cipherSuites));
    body.write(compression.length);
    body.writeBytes(compression);
    if (extensions != null) {
      ByteArrayOutputStream block = new ByteArrayOutputStream();
      extensions.forEach(block::writeBytes);
      int length = extensionsLengthOverride != null ? extensionsLengthOverride : block.size();
      body.writeBytes(u16(length));
      body.writeBytes(block.toByteArray());
    }
    int n = body.size();
    return concat(
        new byte[] {(byte) handshakeType, (byte) (n >> 16), (byte) (n >> 8), (byte) n},
        body.toByteArray());
  }

  /** The message in one TLS record. */
  byte[] record() {
    return TestHellos.record(message());
  }

  static byte[] u16(int v) {
    return new byte[] {(byte) (v >> 8), (byte) v};
  }

  static byte[] vector16(byte[] content) {
    return concat(u16(content.length), content);
  }

  static byte[] concat(byte[]... parts) {
    return TestHellos.concat(parts);
  }
}
