package io.tollgate.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.tollgate.inspect.ClientHelloInspector;
import io.tollgate.inspect.ClientHelloParser;
import io.tollgate.inspect.ParseResult;

/**
 * Coverage-guided fuzz target for the ClientHello inspection (Jazzer). In a plain build it replays
 * the corpus in {@code src/test/resources/io/tollgate/fuzz/ClientHelloFuzzTestInputs/} (real hellos
 * from OpenSSL, BoringSSL, the JDK and Chromium, re-framed and broken variants, and every crash
 * found so far); {@code scripts/fuzz.sh} fuzzes it. Per input:
 *
 * <ul>
 *   <li>the parser's public, stateless {@code parse} gives a verdict without throwing, and failure
 *       details quote the client only as a short escaped excerpt;
 *   <li>the inspector on a channel, fed the same bytes whole, one byte per read and in random reads
 *       (its resumable record walk), reaches exactly that verdict, reports once, passes on every
 *       byte untouched after a hello and none otherwise, and releases every buffer;
 *   <li>a FIN turns "waiting for more" into {@code client_closed} and changes nothing else.
 * </ul>
 */
class ClientHelloFuzzTest {
  /** The default {@code limits.max-client-hello}. */
  private static final int MAX_HELLO = 16 * 1024;

  private static final ClientHelloParser PARSER = new ClientHelloParser(MAX_HELLO);

  @FuzzTest(maxDuration = "30s")
  void clientHello(byte[] data) {
    Verdict expected = statelessVerdict(data);
    for (int[] plan : ReadPlans.of(data)) {
      CountingAllocator alloc = new CountingAllocator();
      PipelineRun run = new PipelineRun();
      EmbeddedChannel ch = new EmbeddedChannel();
      ch.config().setAllocator(alloc.alloc);
      ch.pipeline().addLast(new ClientHelloInspector(PARSER, PipelineRun.TIMEOUT_MILLIS, run));

      run.feed(ch, alloc, data, plan);

      String how = ReadPlans.describe(plan);
      assertThat(run.verdict()).as("verdict, %s", how).isEqualTo(expected);
      if (expected.isPending()) {
        assertThat(run.verdictAfterEof().outcome())
            .as("after FIN, %s", how)
            .isEqualTo("client_closed");
      } else {
        assertThat(run.verdictAfterEof()).as("after FIN, %s", how).isEqualTo(expected);
      }
      if (expected.outcome().equals(Verdict.HELLO)) {
        assertThat(run.forwarded()).as("bytes passed on, %s", how).isEqualTo(data);
      } else {
        assertThat(run.forwarded()).as("bytes passed on, %s", how).isEmpty();
      }
    }
  }

  private static Verdict statelessVerdict(byte[] data) {
    CountingAllocator alloc = new CountingAllocator();
    ByteBuf buf = alloc.copy(data, 0, data.length);
    ParseResult result;
    try {
      result = PARSER.parse(buf);
      assertThat(buf.readerIndex()).as("reader index").isZero();
      assertThat(buf.writerIndex()).as("writer index").isEqualTo(data.length);
    } finally {
      buf.release();
    }
    assertThat(alloc.outstanding()).isZero();
    if (result instanceof ParseResult.Done done) {
      return Verdict.hello(done.hello(), null, null);
    }
    if (result instanceof ParseResult.Failed failed) {
      LogSafeDetails.check(failed.detail(), "parser failure detail");
      assertThat(failed.detail())
          .as("parser failure detail")
          .doesNotStartWith("unexpected parser error");
      return Verdict.closed(failed.failure().closeReason().label(), null, null);
    }
    assertThat(result).isSameAs(ParseResult.NeedMore.INSTANCE);
    return Verdict.pending(null, null);
  }
}
