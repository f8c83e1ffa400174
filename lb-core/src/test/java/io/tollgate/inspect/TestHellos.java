package io.tollgate.inspect;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolConfig.Protocol;
import io.netty.handler.ssl.ApplicationProtocolConfig.SelectedListenerFailureBehavior;
import io.netty.handler.ssl.ApplicationProtocolConfig.SelectorFailureBehavior;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLException;

/** Real ClientHellos from Netty client engines, and helpers to re-frame them into TLS records. */
final class TestHellos {
  private TestHellos() {}

  /**
   * The first flight of a client SslHandler for {@code host} (all records it wrote).
   *
   * @param protocols e.g. {@code "TLSv1.3", "TLSv1.2"}
   */
  static byte[] real(SslProvider provider, String host, List<String> alpn, String... protocols) {
    SslContext context;
    try {
      SslContextBuilder builder =
          SslContextBuilder.forClient()
              .sslProvider(provider)
              .trustManager(InsecureTrustManagerFactory.INSTANCE)
              .protocols(protocols);
      if (!alpn.isEmpty()) {
        builder.applicationProtocolConfig(
            new ApplicationProtocolConfig(
                Protocol.ALPN,
                SelectorFailureBehavior.NO_ADVERTISE,
                SelectedListenerFailureBehavior.ACCEPT,
                alpn));
      }
      context = builder.build();
    } catch (SSLException e) {
      throw new IllegalStateException(e);
    }
    EmbeddedChannel client = new EmbeddedChannel();
    try {
      SslHandler handler = context.newHandler(client.alloc(), host, 443);
      client.pipeline().addLast(handler); // active channel: the handshake starts right away
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      for (ByteBuf buf; (buf = client.readOutbound()) != null; ) {
        try {
          byte[] bytes = new byte[buf.readableBytes()];
          buf.readBytes(bytes);
          out.writeBytes(bytes);
        } finally {
          buf.release();
        }
      }
      return out.toByteArray();
    } finally {
      client.finishAndReleaseAll();
      ReferenceCountUtil.release(context);
    }
  }

  /** The handshake messages carried by consecutive handshake records. */
  static byte[] handshakeMessage(byte[] records) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int pos = 0;
    while (pos < records.length) {
      int length = (records[pos + 3] & 0xff) << 8 | (records[pos + 4] & 0xff);
      out.write(records, pos + 5, length);
      pos += 5 + length;
    }
    return out.toByteArray();
  }

  /** Number of records in a well-formed record sequence. */
  static int countRecords(byte[] records) {
    int count = 0;
    for (int pos = 0; pos < records.length; count++) {
      pos += 5 + ((records[pos + 3] & 0xff) << 8 | (records[pos + 4] & 0xff));
    }
    return count;
  }

  /** Splits a handshake message into handshake records of at most {@code payload} bytes each. */
  static byte[] reframe(byte[] message, int payload) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int pos = 0; pos < message.length; pos += payload) {
      int length = Math.min(payload, message.length - pos);
      out.write(new byte[] {22, 3, 1, (byte) (length >> 8), (byte) length}, 0, 5);
      out.write(message, pos, length);
    }
    return out.toByteArray();
  }

  /** Wraps one handshake message (up to 2^14 bytes) in a single record. */
  static byte[] record(byte[] message) {
    return reframe(message, Math.max(1, message.length));
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }

  /** A pooled (hence leak-tracked) copy of {@code bytes}. */
  static ByteBuf buffer(byte[] bytes) {
    return ByteBufAllocator.DEFAULT.buffer(bytes.length).writeBytes(bytes);
  }

  /** {@code count} ALPN protocol names like {@code proto-00042}. */
  static List<String> manyProtocols(int count) {
    List<String> names = new ArrayList<>(List.of("h2", "http/1.1"));
    for (int i = 0; i < count; i++) {
      names.add(String.format("proto-%05d", i));
    }
    return names;
  }
}
