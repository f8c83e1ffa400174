package io.tollgate.it;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Structure-aware mutations of a real ClientHello, for the end-to-end torture test: the hello is
 * taken apart into its extensions, changed at that level (SNI swapped, extensions dropped,
 * duplicated or added, ALPN flooded), put back together with consistent lengths, and then sometimes
 * broken at the byte level (a length field off, bytes flipped, truncated, garbage appended) and cut
 * into records of random sizes. Seeded, so a run can be replayed.
 */
final class HelloMutator {
  private static final int EXT_SERVER_NAME = 0;
  private static final int EXT_ALPN = 16;

  private final Random random;

  HelloMutator(long seed) {
    random = new Random(seed);
  }

  /** The parts of a ClientHello message this mutator works on. */
  private static final class Parts {
    byte[] prefix; // version, random, session id, cipher suites, compression methods
    final List<Integer> types = new ArrayList<>();
    final List<byte[]> bodies = new ArrayList<>();
  }

  /** A mutated copy of {@code records} (a well-formed hello) and what was done to it. */
  Mutant mutate(byte[] records, String routedName) {
    Parts p = parse(message(records));
    List<String> what = new ArrayList<>();
    if (random.nextBoolean()) {
      replaceSni(p, routedName); // half of them can reach a backend
      what.add("sni=" + routedName);
    }
    int structural = random.nextInt(3);
    for (int i = 0; i < structural; i++) {
      switch (random.nextInt(6)) {
        case 0 -> {
          replaceSni(p, routedName);
          what.add("sni=" + routedName);
        }
        case 1 -> {
          String junk = random.nextBoolean() ? "a\u001b[2J.test" : "x".repeat(70) + ".test";
          replaceSni(p, junk);
          what.add("bad sni");
        }
        case 2 -> {
          if (!p.types.isEmpty()) {
            int at = random.nextInt(p.types.size());
            what.add("drop ext " + p.types.get(at));
            p.types.remove(at);
            p.bodies.remove(at);
          }
        }
        case 3 -> {
          if (!p.types.isEmpty()) {
            int at = random.nextInt(p.types.size());
            what.add("duplicate ext " + p.types.get(at));
            p.types.add(p.types.get(at));
            p.bodies.add(p.bodies.get(at));
          }
        }
        case 4 -> {
          int type =
              random.nextBoolean()
                  ? 0x0a0a + 0x1010 * random.nextInt(16)
                  : 0xff00 + random.nextInt(255);
          byte[] body = new byte[random.nextInt(random.nextBoolean() ? 16 : 1200)];
          random.nextBytes(body);
          insertExtension(p, type, body);
          what.add("insert ext " + type + " of " + body.length);
        }
        default -> {
          int names = 1 + random.nextInt(3000);
          replaceAlpn(p, names);
          what.add("alpn x" + names);
        }
      }
    }
    byte[] msg = serialize(p);
    if (random.nextInt(3) == 0) {
      msg = breakBytes(msg, what);
    }
    byte[] framed = frame(msg, what);
    if (random.nextInt(10) == 0) {
      framed = breakRecords(framed, what);
    }
    return new Mutant(framed, String.join(", ", what.isEmpty() ? List.of("unchanged") : what));
  }

  /** Mutated bytes and a description for failure messages. */
  record Mutant(byte[] bytes, String description) {}

  private static byte[] message(byte[] records) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int pos = 0; pos + 5 <= records.length; ) {
      int length = u16(records, pos + 3);
      out.write(records, pos + 5, length);
      pos += 5 + length;
    }
    return out.toByteArray();
  }

  private static Parts parse(byte[] msg) {
    int pos = 4 + 2 + 32;
    pos += 1 + (msg[pos] & 0xff);
    pos += 2 + u16(msg, pos);
    pos += 1 + (msg[pos] & 0xff);
    Parts p = new Parts();
    p.prefix = Arrays.copyOfRange(msg, 4, pos);
    int end = pos + 2 + u16(msg, pos);
    for (pos += 2; pos < end; ) {
      int type = u16(msg, pos);
      int length = u16(msg, pos + 2);
      p.types.add(type);
      p.bodies.add(Arrays.copyOfRange(msg, pos + 4, pos + 4 + length));
      pos += 4 + length;
    }
    return p;
  }

  private static byte[] serialize(Parts p) {
    ByteArrayOutputStream ext = new ByteArrayOutputStream();
    for (int i = 0; i < p.types.size(); i++) {
      ext.writeBytes(be16(p.types.get(i)));
      ext.writeBytes(be16(p.bodies.get(i).length));
      ext.writeBytes(p.bodies.get(i));
    }
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(p.prefix);
    body.writeBytes(be16(ext.size()));
    body.writeBytes(ext.toByteArray());
    int n = body.size();
    ByteArrayOutputStream msg = new ByteArrayOutputStream();
    msg.writeBytes(new byte[] {1, (byte) (n >> 16), (byte) (n >> 8), (byte) n});
    msg.writeBytes(body.toByteArray());
    return msg.toByteArray();
  }

  private void replaceSni(Parts p, String name) {
    byte[] host = name.getBytes(StandardCharsets.ISO_8859_1);
    ByteArrayOutputStream entry = new ByteArrayOutputStream();
    entry.write(0);
    entry.writeBytes(be16(host.length));
    entry.writeBytes(host);
    byte[] list = concat(be16(entry.size()), entry.toByteArray());
    set(p, EXT_SERVER_NAME, list);
  }

  private void replaceAlpn(Parts p, int names) {
    ByteArrayOutputStream list = new ByteArrayOutputStream();
    for (int i = 0; i < names && list.size() < 12_000; i++) {
      int length = 1 + random.nextInt(2);
      list.write(length);
      for (int j = 0; j < length; j++) {
        list.write('a' + random.nextInt(26));
      }
    }
    set(p, EXT_ALPN, concat(be16(list.size()), list.toByteArray()));
  }

  private void set(Parts p, int type, byte[] body) {
    for (int i = 0; i < p.types.size(); i++) {
      if (p.types.get(i) == type) {
        p.bodies.set(i, body);
        return;
      }
    }
    insertExtension(p, type, body);
  }

  private void insertExtension(Parts p, int type, byte[] body) {
    int at = random.nextInt(p.types.size() + 1);
    p.types.add(at, type);
    p.bodies.add(at, body);
  }

  /** Byte-level damage to the handshake message. */
  private byte[] breakBytes(byte[] msg, List<String> what) {
    byte[] b = msg.clone();
    switch (random.nextInt(5)) {
      case 0 -> { // a length field somewhere in the first 80 bytes or the extension block
        int at = random.nextInt(Math.max(1, b.length - 1));
        int delta = random.nextBoolean() ? (random.nextBoolean() ? 1 : -1) : 0x7f;
        b[at] = (byte) (b[at] + delta);
        what.add("byte " + at + " += " + delta);
      }
      case 1 -> {
        for (int i = 1 + random.nextInt(8); i > 0; i--) {
          b[random.nextInt(b.length)] ^= (byte) (1 << random.nextInt(8));
        }
        what.add("bit flips");
      }
      case 2 -> {
        int keep = random.nextInt(b.length);
        b = Arrays.copyOf(b, keep);
        what.add("truncated to " + keep);
      }
      case 3 -> { // handshake length says more (or much less) than there is
        int n =
            random.nextBoolean() ? b.length - 4 + 1 + random.nextInt(20_000) : random.nextInt(40);
        b[1] = (byte) (n >> 16);
        b[2] = (byte) (n >> 8);
        b[3] = (byte) n;
        what.add("handshake length " + n);
      }
      default -> {
        b[0] = (byte) (random.nextBoolean() ? 2 : random.nextInt(256));
        what.add("handshake type " + (b[0] & 0xff));
      }
    }
    return b;
  }

  /** Records of random sizes: one record, small ones, 1-byte ones. */
  private byte[] frame(byte[] msg, List<String> what) {
    int payload =
        switch (random.nextInt(6)) {
          case 0 -> 1;
          case 1 -> 1 + random.nextInt(64);
          case 2 -> 1 + random.nextInt(700);
          default -> 16_384;
        };
    if (payload < 16_384) {
      what.add("records of " + payload);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int pos = 0; pos < msg.length; pos += payload) {
      int n = Math.min(payload, msg.length - pos);
      out.writeBytes(new byte[] {22, 3, 1, (byte) (n >> 8), (byte) n});
      out.write(msg, pos, n);
    }
    return out.toByteArray();
  }

  /** Damage to the record layer: type, version, length, garbage after. */
  private byte[] breakRecords(byte[] framed, List<String> what) {
    byte[] b = framed.clone();
    switch (random.nextInt(4)) {
      case 0 -> {
        b[0] = (byte) new int[] {20, 21, 23, 0x80, 'G'}[random.nextInt(5)];
        what.add("record type " + (b[0] & 0xff));
      }
      case 1 -> {
        b[1] = (byte) random.nextInt(256);
        what.add("record version major " + (b[1] & 0xff));
      }
      case 2 -> {
        int n = random.nextBoolean() ? 0 : 0x4001 + random.nextInt(0xbfff);
        b[3] = (byte) (n >> 8);
        b[4] = (byte) n;
        what.add("record length " + n);
      }
      default -> {
        byte[] junk = new byte[1 + random.nextInt(64)];
        random.nextBytes(junk);
        b = concat(b, junk);
        what.add("garbage after");
      }
    }
    return b;
  }

  private static int u16(byte[] b, int at) {
    return (b[at] & 0xff) << 8 | (b[at + 1] & 0xff);
  }

  private static byte[] be16(int v) {
    return new byte[] {(byte) (v >> 8), (byte) v};
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
