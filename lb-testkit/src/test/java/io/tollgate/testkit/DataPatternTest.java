package io.tollgate.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class DataPatternTest {
  @Test
  void sequenceDoesNotDependOnChunking() {
    byte[] whole = new byte[1000];
    new DataPattern(42).nextBytes(whole, 0, whole.length);

    byte[] pieces = new byte[1000];
    DataPattern pattern = new DataPattern(42);
    int[] sizes = {1, 7, 8, 3, 500, 481};
    int offset = 0;
    for (int size : sizes) {
      pattern.nextBytes(pieces, offset, size);
      offset += size;
    }
    assertThat(pieces).isEqualTo(whole);
  }

  @Test
  void seedsDifferAndZeroSeedStillProducesData() {
    byte[] a = new byte[64];
    byte[] b = new byte[64];
    byte[] zero = new byte[64];
    new DataPattern(1).nextBytes(a, 0, 64);
    new DataPattern(2).nextBytes(b, 0, 64);
    new DataPattern(0).nextBytes(zero, 0, 64);
    assertThat(a).isNotEqualTo(b);
    assertThat(zero).isNotEqualTo(new byte[64]);
  }

  @Test
  void sha256MatchesWrittenBytes() throws Exception {
    long length = 3 * DataPattern.CHUNK + 12345;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    DataPattern.writeTo(out, 99, length);
    assertThat(out.size()).isEqualTo(length);
    String actual =
        HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(out.toByteArray()));
    assertThat(DataPattern.sha256Hex(99, length)).isEqualTo(actual);
    assertThat(DataPattern.sha256Hex(99, 0))
        .isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  }
}
