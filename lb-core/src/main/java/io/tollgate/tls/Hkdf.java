package io.tollgate.tls;

import java.security.GeneralSecurityException;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** HKDF with HMAC-SHA256 (RFC 5869): extract, then expand to the length asked for. */
final class Hkdf {
  private static final int HASH_SIZE = 32;

  private Hkdf() {}

  static byte[] sha256(byte[] inputKey, byte[] salt, byte[] info, int length) {
    if (length <= 0 || length > 255 * HASH_SIZE) {
      throw new IllegalArgumentException("HKDF-SHA256 output length " + length);
    }
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(salt.length == 0 ? new byte[HASH_SIZE] : salt, "HmacSHA256"));
      byte[] prk = mac.doFinal(inputKey);
      mac.init(new SecretKeySpec(prk, "HmacSHA256"));
      byte[] out = new byte[length];
      byte[] block = new byte[0];
      for (int offset = 0, counter = 1; offset < length; counter++) {
        mac.update(block);
        mac.update(info);
        mac.update((byte) counter);
        block = mac.doFinal();
        int n = Math.min(HASH_SIZE, length - offset);
        System.arraycopy(block, 0, out, offset, n);
        offset += n;
      }
      Arrays.fill(prk, (byte) 0);
      return out;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("every JDK has HmacSHA256", e);
    }
  }
}
