package io.tollgate.tls;

import io.netty.handler.ssl.OpenSslSessionTicketKey;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * TLS session-ticket keys: the first one encrypts new tickets, every one decrypts, so a fleet that
 * shares the file resumes each other's sessions and can rotate keys without breaking live tickets.
 *
 * <p>File format ({@code tls.session-ticket-keys}): UTF-8 text, one key per line, each the base64
 * (standard alphabet, padding optional) of exactly 48 random bytes: 16 bytes of key name, 16 of
 * HMAC secret, 16 of AES-128 key. Blank lines and lines starting with {@code #} are ignored;
 * surrounding whitespace is trimmed. The <b>first</b> key line is the current key; the following
 * ones are previous keys that still decrypt. To rotate: add a new line at the top, reload every
 * node, and drop the last line once no ticket encrypted with it can still be valid ({@code
 * tls.session-timeout}). A key is made with {@code head -c 48 /dev/urandom | base64 -w0}.
 *
 * <pre>
 * # current
 * q3xU...48 bytes in base64...
 * # previous, still decrypts
 * 9Jk2...
 * </pre>
 *
 * <p>These are master keys: no context uses them as they are. Each route gets its own keys, derived
 * from them with its {@link SessionScope} ({@link #forScope}), so a ticket issued for one route
 * cannot be decrypted by another, while every node holding the same file derives the same keys for
 * the same route.
 *
 * <p>Only the BoringSSL provider can install keys; with the JDK provider the file is read and
 * checked, and a warning says it is not used.
 */
public final class TicketKeys {
  public static final int NAME_SIZE = 16;
  public static final int HMAC_SIZE = 16;
  public static final int AES_SIZE = 16;
  public static final int KEY_SIZE = NAME_SIZE + HMAC_SIZE + AES_SIZE;

  /** HKDF salt: fixed, so that every node derives the same route keys from the same file. */
  private static final byte[] DERIVATION_SALT =
      "tollgate session ticket key v1".getBytes(StandardCharsets.US_ASCII);

  private final List<byte[]> keys;

  private TicketKeys(List<byte[]> keys) {
    if (keys.isEmpty()) {
      throw new IllegalArgumentException("no ticket key");
    }
    this.keys = keys.stream().map(byte[]::clone).toList();
  }

  /** How many keys; the first one is the current one. */
  public int size() {
    return keys.size();
  }

  /** The {@code index}-th key's 48 bytes (a copy). */
  public byte[] key(int index) {
    return keys.get(index).clone();
  }

  /** The keys in Netty's form, current first. */
  public OpenSslSessionTicketKey[] toOpenSsl() {
    OpenSslSessionTicketKey[] result = new OpenSslSessionTicketKey[keys.size()];
    for (int i = 0; i < result.length; i++) {
      byte[] key = keys.get(i);
      result[i] =
          new OpenSslSessionTicketKey(
              Arrays.copyOfRange(key, 0, NAME_SIZE),
              Arrays.copyOfRange(key, NAME_SIZE, NAME_SIZE + HMAC_SIZE),
              Arrays.copyOfRange(key, NAME_SIZE + HMAC_SIZE, KEY_SIZE));
    }
    return result;
  }

  /**
   * The keys of the route with {@code scope}: each master key through HKDF-SHA256 (RFC 5869) with
   * the scope's digest as info, current key first as in this set.
   */
  TicketKeys forScope(SessionScope scope) {
    List<byte[]> derived = new ArrayList<>(keys.size());
    for (byte[] key : keys) {
      derived.add(Hkdf.sha256(key, DERIVATION_SALT, scope.sessionIdContext(), KEY_SIZE));
    }
    return new TicketKeys(derived);
  }

  /** This set with a new current key in front and only the old current key behind it. */
  TicketKeys rotated(byte[] newKey) {
    return new TicketKeys(List.of(newKey, keys.get(0)));
  }

  /** Fresh random keys. */
  public static TicketKeys random(int count) {
    SecureRandom random = new SecureRandom();
    List<byte[]> keys = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      byte[] key = new byte[KEY_SIZE];
      random.nextBytes(key);
      keys.add(key);
    }
    return new TicketKeys(keys);
  }

  /** Parses the text of a key file; see the class comment. */
  public static TicketKeys parse(String text) throws MalformedKeysException {
    List<byte[]> keys = new ArrayList<>();
    String[] lines = text.split("\\R", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      byte[] key;
      try {
        key = Base64.getDecoder().decode(line);
      } catch (IllegalArgumentException e) {
        throw new MalformedKeysException(
            i + 1,
            "not base64 ("
                + e.getMessage()
                + "); expected the base64 of "
                + KEY_SIZE
                + " random bytes, e.g. from `head -c 48 /dev/urandom | base64 -w0`");
      }
      if (key.length != KEY_SIZE) {
        throw new MalformedKeysException(
            i + 1,
            "decodes to "
                + key.length
                + " bytes; a ticket key is exactly "
                + KEY_SIZE
                + " bytes (16 name, 16 HMAC secret, 16 AES key), e.g. from"
                + " `head -c 48 /dev/urandom | base64 -w0`");
      }
      keys.add(key);
    }
    if (keys.isEmpty()) {
      throw new MalformedKeysException(
          0,
          "no key in the file (one base64 key of "
              + KEY_SIZE
              + " bytes per line, current"
              + " key first)");
    }
    return new TicketKeys(keys);
  }

  /** Reads a key file; problems are reported against {@code file:line} and {@code configPath}. */
  static TicketKeys read(Path file, String configPath, TlsProblems problems) {
    try {
      TicketKeys keys = parse(Files.readString(file, StandardCharsets.UTF_8));
      SecretFiles.exposure(file, "the session-ticket key file (it decrypts every ticket)")
          .ifPresent(warning -> problems.warning(file, configPath, warning));
      return keys;
    } catch (MalformedKeysException e) {
      problems.error(
          e.line() > 0 ? file + ":" + e.line() : file.toString(), configPath, e.detail());
    } catch (IOException e) {
      problems.error(file, configPath, "cannot read the session ticket key file: " + e);
    }
    return null;
  }

  /** A key file that does not follow the format; {@link #line()} is 1-based, 0 for the file. */
  public static final class MalformedKeysException extends Exception {
    private final int line;
    private final String detail;

    MalformedKeysException(int line, String detail) {
      super(line > 0 ? "line " + line + ": " + detail : detail);
      this.line = line;
      this.detail = detail;
    }

    public int line() {
      return line;
    }

    /** The message without the line number. */
    public String detail() {
      return detail;
    }
  }
}
