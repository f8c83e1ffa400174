package io.tollgate.inspect;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;
import io.tollgate.inspect.ParseResult.Failed;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Robustness: random mutations of real hellos (fixed seed, bounded count) never make the parser
 * throw, read out of bounds, touch the buffer's indices, or return null.
 */
class ClientHelloParserFuzzTest {
  private static final int MUTATIONS = 20_000;

  @Test
  void mutatedHellosNeverThrowAndAlwaysGiveAResult() {
    List<byte[]> seeds = new ArrayList<>();
    byte[] jdk =
        TestHellos.real(
            SslProvider.JDK, "fuzz.example", List.of("h2", "http/1.1"), "TLSv1.3", "TLSv1.2");
    seeds.add(jdk);
    seeds.add(TestHellos.reframe(TestHellos.handshakeMessage(jdk), 7));
    seeds.add(new HelloBuilder().sni("a.example").alpn("h2").versions(0x0304).record());
    if (OpenSsl.isAvailable()) {
      seeds.add(TestHellos.real(SslProvider.OPENSSL, "fuzz.example", List.of("h2"), "TLSv1.3"));
    }
    ClientHelloParser parser = new ClientHelloParser(4096);
    Random random = new Random(0x7011_6a7e);
    int[] outcomes = new int[3];

    for (int i = 0; i < MUTATIONS; i++) {
      byte[] input = mutate(seeds.get(random.nextInt(seeds.size())), random);
      // Unpooled heap buffers are not leak-tracked: paranoid tracking would dominate the run time.
      ByteBuf buf = Unpooled.wrappedBuffer(TestHellos.concat(new byte[] {1, 2}, input));
      try {
        buf.readerIndex(2);
        int writer = buf.writerIndex();

        ParseResult result = parser.parse(buf);

        assertThat(result).as("mutation %d", i).isNotNull();
        assertThat(buf.readerIndex()).isEqualTo(2);
        assertThat(buf.writerIndex()).isEqualTo(writer);
        if (result instanceof Failed failed) {
          assertThat(failed.detail())
              .as("mutation %d", i)
              .doesNotStartWith("unexpected parser error");
        }
        outcomes[result instanceof Failed ? 0 : result instanceof ParseResult.Done ? 1 : 2]++;
      } finally {
        buf.release();
      }
    }
    // The mutations must exercise all three outcomes, or the test proves little.
    assertThat(outcomes[0]).as("failed").isGreaterThan(100);
    assertThat(outcomes[1]).as("done").isGreaterThan(100);
    assertThat(outcomes[2]).as("need more").isGreaterThan(100);
  }

  private static byte[] mutate(byte[] seed, Random random) {
    byte[] bytes = seed.clone();
    int edits = 1 + random.nextInt(4);
    for (int e = 0; e < edits; e++) {
      if (bytes.length == 0) {
        return bytes;
      }
      int at = random.nextInt(bytes.length);
      switch (random.nextInt(6)) {
        case 0 -> bytes[at] = (byte) random.nextInt(256); // random byte
        case 1 -> bytes[at] ^= (byte) (1 << random.nextInt(8)); // bit flip
        case 2 -> bytes = Arrays.copyOf(bytes, at); // truncate
        case 3 -> { // length-like extremes
          bytes[at] = (byte) (random.nextBoolean() ? 0xff : 0x00);
          if (at + 1 < bytes.length) {
            bytes[at + 1] = (byte) (random.nextBoolean() ? 0xff : 0x00);
          }
        }
        case 4 -> { // delete a run
          int n = Math.min(bytes.length - at, 1 + random.nextInt(16));
          bytes =
              TestHellos.concat(
                  Arrays.copyOf(bytes, at), Arrays.copyOfRange(bytes, at + n, bytes.length));
        }
        default -> { // insert random bytes
          byte[] extra = new byte[1 + random.nextInt(16)];
          random.nextBytes(extra);
          bytes =
              TestHellos.concat(
                  Arrays.copyOf(bytes, at), extra, Arrays.copyOfRange(bytes, at, bytes.length));
        }
      }
    }
    return bytes;
  }
}
