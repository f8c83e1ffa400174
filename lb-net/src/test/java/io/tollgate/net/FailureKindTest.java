package io.tollgate.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NotYetConnectedException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateExpiredException;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

class FailureKindTest {
  @Test
  void aRefusedLoopbackConnectIsConnectRefused() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    try {
      ChannelFuture f =
          new Bootstrap()
              .group(group)
              .channel(NioSocketChannel.class)
              .handler(new ChannelInboundHandlerAdapter())
              .connect(new InetSocketAddress("127.0.0.1", closedPort))
              .await();
      assertThat(f.isSuccess()).isFalse();
      assertThat(FailureKind.of(f.cause())).isEqualTo(FailureKind.CONNECT_REFUSED);
      assertThat(FailureKind.of(f.cause()).socket()).isTrue();
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  @Test
  void certificateProblemsAnywhereInTheChainAreVerify() {
    // BoringSSL: a generic handshake exception with the trust manager's exception as cause.
    SSLHandshakeException boring = new SSLHandshakeException("General OpenSslEngine problem");
    boring.initCause(
        new CertPathValidatorException(
            "validity check failed", new CertificateExpiredException("NotAfter: ...")));
    assertThat(FailureKind.of(new DecoderException(boring))).isEqualTo(FailureKind.VERIFY);
    assertThat(
            FailureKind.of(
                new SSLHandshakeException(
                    "error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED")))
        .isEqualTo(FailureKind.VERIFY);
  }

  @Test
  void otherTlsFailuresAreHandshakeTimeoutOrClosed() {
    assertThat(FailureKind.of(new DecoderException(new SSLException("bad record mac"))))
        .isEqualTo(FailureKind.HANDSHAKE);
    assertThat(FailureKind.of(new SslHandshakeTimeoutException("handshake timed out after 1ms")))
        .isEqualTo(FailureKind.HANDSHAKE_TIMEOUT);
    assertThat(FailureKind.of(new ClosedChannelException())).isEqualTo(FailureKind.CLOSED);
    // A close reported below a TLS exception is that TLS failure, not a plain close.
    assertThat(FailureKind.of(new SSLException("engine closed", new ClosedChannelException())))
        .isEqualTo(FailureKind.HANDSHAKE);
  }

  @Test
  void socketFailuresAreNotTls() {
    assertThat(FailureKind.of(new ConnectTimeoutException("connection timed out")))
        .isEqualTo(FailureKind.CONNECT_TIMEOUT);
    assertThat(FailureKind.of(new ConnectException("No route to host")))
        .isEqualTo(FailureKind.SOCKET);
    assertThat(FailureKind.of(new SocketException("Connection reset")))
        .isEqualTo(FailureKind.SOCKET);
    assertThat(FailureKind.of(new NotYetConnectedException())).isEqualTo(FailureKind.SOCKET);
    assertThat(FailureKind.of(new IllegalStateException("a bug"))).isEqualTo(FailureKind.OTHER);
    assertThat(Arrays.stream(FailureKind.values()).filter(k -> k.tls() && k.socket())).isEmpty();
  }

  @Test
  void labelsAreTheHandshakeMetricsReasons() {
    assertThat(Arrays.stream(FailureKind.values()).filter(FailureKind::tls).map(FailureKind::label))
        .containsExactly("verify", "handshake", "timeout", "closed");
    assertThat(FailureKind.OTHER.label()).isEqualTo("other");
  }

  @Test
  void causesFindTheDeepestMessageTheRootAndATypeInTheChain() {
    IOException root = new IOException("the real reason");
    SSLException top = new SSLException("General OpenSslEngine problem", root);
    assertThat(Causes.message(top)).isEqualTo("the real reason");
    assertThat(Causes.message(new SSLException("top", new IOException(" ")))).isEqualTo("top");
    assertThat(Causes.message(new ClosedChannelException())).isEqualTo("ClosedChannelException");
    assertThat(Causes.root(top)).isSameAs(root);
    assertThat(Causes.find(new DecoderException(top), SSLException.class)).isSameAs(top);
    assertThat(Causes.find(top, CertificateExpiredException.class)).isNull();
  }
}
