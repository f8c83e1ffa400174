package io.tollgate.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.tollgate.config.Cidr;
import io.tollgate.config.UpstreamProxyProtocol;
import io.tollgate.config.UpstreamProxyProtocol.Mode;
import io.tollgate.connection.Connection;
import io.tollgate.inspect.ClientHelloInspector;
import io.tollgate.inspect.ClientHelloParser;
import io.tollgate.proxyprotocol.ProxyHeaderParser;
import io.tollgate.proxyprotocol.ProxyHeaderReader;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Arrays;
import java.util.List;

/**
 * Coverage-guided fuzz target for a listener with {@code proxy-protocol}: the real {@link
 * ProxyHeaderReader} followed by the ClientHello inspector, as the listener builds them. Corpus:
 * {@code src/test/resources/io/tollgate/fuzz/ProxyHeaderFuzzTestInputs/} (v1 and v2 headers of
 * every family, with TLVs and CRC32C, followed by real hellos; broken headers). Each input goes
 * through three listeners: {@code required} from a trusted balancer, {@code optional} from a
 * trusted balancer, {@code optional} from an untrusted source; in each, whole, one byte per read
 * and in random reads must give the same verdict (close reason, or the hello and the client address
 * taken from the header) and pass on the same bytes, with every buffer released. For {@code
 * required}, the verdict must agree with the public stateless {@link ProxyHeaderParser#parse}.
 */
class ProxyHeaderFuzzTest {
  private static final InetSocketAddress BALANCER = new InetSocketAddress("10.1.2.3", 40000);
  private static final InetSocketAddress STRANGER = new InetSocketAddress("192.0.2.99", 40000);
  private static final List<Cidr> TRUSTED =
      List.of(Cidr.parse("10.0.0.0/8").orElseThrow(), Cidr.parse("::1/128").orElseThrow());
  private static final ClientHelloParser PARSER = new ClientHelloParser(16 * 1024);

  private record Listener(Mode mode, InetSocketAddress peer) {}

  private static final List<Listener> LISTENERS =
      List.of(
          new Listener(Mode.REQUIRED, BALANCER),
          new Listener(Mode.OPTIONAL, BALANCER),
          new Listener(Mode.OPTIONAL, STRANGER));

  @FuzzTest(maxDuration = "30s")
  void proxyHeaderThenHello(byte[] data) {
    for (Listener listener : LISTENERS) {
      Verdict first = null;
      byte[] firstForwarded = null;
      for (int[] plan : ReadPlans.of(data)) {
        PipelineRun run = feed(listener, data, plan);
        String how = listener + ", " + ReadPlans.describe(plan);
        if (first == null) {
          first = run.verdict();
          firstForwarded = run.forwarded();
          checkAgainstStatelessParser(listener, data, first);
        } else {
          assertThat(run.verdict()).as("verdict, %s", how).isEqualTo(first);
          assertThat(run.forwarded()).as("bytes passed on, %s", how).isEqualTo(firstForwarded);
        }
        assertThat(run.verdictAfterEof().isPending()).as("after FIN, %s", how).isFalse();
        byte[] forwarded = run.forwarded();
        assertThat(forwarded)
            .as("passed on bytes are the input's tail, %s", how)
            .isEqualTo(Arrays.copyOfRange(data, data.length - forwarded.length, data.length));
      }
    }
  }

  private static PipelineRun feed(Listener listener, byte[] data, int[] plan) {
    CountingAllocator alloc = new CountingAllocator();
    PipelineRun run = new PipelineRun();
    EmbeddedChannel ch = new PeerChannel(listener.peer());
    ch.config().setAllocator(alloc.alloc);
    ch.attr(Connection.KEY).set(new Connection("1", "fuzz", listener.peer(), System.nanoTime()));
    UpstreamProxyProtocol config = new UpstreamProxyProtocol(listener.mode(), TRUSTED);
    ch.pipeline().addLast(new ProxyHeaderReader(config, PipelineRun.TIMEOUT_MILLIS));
    ch.pipeline().addLast(new ClientHelloInspector(PARSER, PipelineRun.TIMEOUT_MILLIS, run));
    try {
      ch.register();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    return run.feed(ch, alloc, data, plan);
  }

  /** The reader's verdict must be the one the public parser gives for the whole input. */
  private static void checkAgainstStatelessParser(Listener listener, byte[] data, Verdict v) {
    CountingAllocator alloc = new CountingAllocator();
    ByteBuf buf = alloc.copy(data, 0, data.length);
    ProxyHeaderParser.Result result;
    int detected;
    try {
      detected = ProxyHeaderParser.detect(buf);
      result = ProxyHeaderParser.parse(buf);
      assertThat(buf.readerIndex()).isZero();
    } finally {
      buf.release();
    }
    if (result instanceof ProxyHeaderParser.Bad bad) {
      LogSafeDetails.check(bad.detail(), "PROXY parser detail");
    }
    if (listener.peer() == STRANGER) {
      if (detected > 0) {
        assertThat(v.outcome()).isEqualTo("proxy_untrusted");
      }
      return;
    }
    if (listener.mode() != Mode.REQUIRED) {
      return;
    }
    SocketAddress client = v.client();
    if (result instanceof ProxyHeaderParser.NotProxy) {
      assertThat(v.outcome()).isEqualTo("proxy_header_missing");
    } else if (result instanceof ProxyHeaderParser.Bad) {
      assertThat(v.outcome()).isEqualTo("bad_proxy_header");
    } else if (result instanceof ProxyHeaderParser.Header h) {
      assertThat(v.outcome()).doesNotStartWith("proxy_").isNotEqualTo("bad_proxy_header");
      assertThat(client).isEqualTo(h.source() != null ? h.source() : BALANCER);
    } else {
      assertThat(v.outcome()).isEqualTo(Verdict.PENDING);
      assertThat(client).isEqualTo(BALANCER);
    }
  }

  /** An EmbeddedChannel whose peer is an IP address (the reader checks it against trusted). */
  private static final class PeerChannel extends EmbeddedChannel {
    private final SocketAddress peer;

    PeerChannel(SocketAddress peer) {
      super(false, false);
      this.peer = peer;
    }

    @Override
    protected SocketAddress remoteAddress0() {
      return peer;
    }
  }
}
