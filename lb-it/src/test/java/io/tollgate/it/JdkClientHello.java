package io.tollgate.it;

import java.nio.ByteBuffer;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/** The bytes of a real ClientHello from the JDK's TLS engine, for tests that speak raw TCP. */
final class JdkClientHello {
  private JdkClientHello() {}

  static byte[] forName(String sni, List<String> alpn) throws Exception {
    SSLEngine engine = SSLContext.getDefault().createSSLEngine(sni, 443);
    engine.setUseClientMode(true);
    SSLParameters params = engine.getSSLParameters();
    params.setServerNames(List.of(new SNIHostName(sni)));
    if (!alpn.isEmpty()) {
      params.setApplicationProtocols(alpn.toArray(String[]::new));
    }
    engine.setSSLParameters(params);
    ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
    engine.wrap(ByteBuffer.allocate(0), out);
    out.flip();
    byte[] bytes = new byte[out.remaining()];
    out.get(bytes);
    return bytes;
  }
}
