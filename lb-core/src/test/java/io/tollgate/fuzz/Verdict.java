package io.tollgate.fuzz;

import io.tollgate.inspect.ClientHello;
import java.net.SocketAddress;

/**
 * What the connection's first handlers made of the bytes so far: {@code pending} (waiting for
 * more), {@code hello} (routed on with {@link #hello}), or the close reason. {@link #client} and
 * {@link #destination} are what the connection believes after a PROXY header (null where no header
 * is read). Two ways of delivering the same bytes must give equal verdicts.
 */
record Verdict(String outcome, ClientHello hello, SocketAddress client, SocketAddress destination) {
  static final String PENDING = "pending";
  static final String HELLO = "hello";

  static Verdict pending(SocketAddress client, SocketAddress destination) {
    return new Verdict(PENDING, null, client, destination);
  }

  static Verdict hello(ClientHello hello, SocketAddress client, SocketAddress destination) {
    return new Verdict(HELLO, hello, client, destination);
  }

  static Verdict closed(String reason, SocketAddress client, SocketAddress destination) {
    return new Verdict(reason, null, client, destination);
  }

  boolean isPending() {
    return outcome.equals(PENDING);
  }
}
