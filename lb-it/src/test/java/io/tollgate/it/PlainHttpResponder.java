package io.tollgate.it;

import io.tollgate.testkit.TlsTestServer;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A tiny HTTP/1.1 origin for {@link TlsTestServer#startPlain}: the backend of an offload route. It
 * reads one request head (up to the empty line, at most 64 KiB), records it exactly as it arrived,
 * and answers {@code 200} with {@code Connection: close} and a body that quotes the request line it
 * parsed, so the client can tell that plaintext HTTP reached the backend.
 *
 * <p>A connection that ends before a whole head arrived (a TLS client that only handshakes) is not
 * an error: it is recorded as what arrived and gets no answer.
 */
final class PlainHttpResponder implements TlsTestServer.ConnectionHandler {
  private static final int MAX_HEAD = 64 * 1024;
  private static final int CRLF_CRLF = 0x0d0a0d0a;

  private final String name;
  private final List<byte[]> heads = new CopyOnWriteArrayList<>();

  PlainHttpResponder(String name) {
    this.name = name;
  }

  /** What each connection sent before the end of its request head (or before EOF), in order. */
  List<byte[]> heads() {
    return List.copyOf(heads);
  }

  /** {@link #heads()} as ISO-8859-1 text (every byte maps to one char). */
  List<String> headTexts() {
    return heads.stream().map(b -> new String(b, StandardCharsets.ISO_8859_1)).toList();
  }

  @Override
  public void handle(Socket socket) throws Exception {
    socket.setSoTimeout(10_000);
    InputStream in = socket.getInputStream();
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    boolean complete = false;
    int last4 = 0; // the last four bytes read, oldest in the top byte
    for (int b; head.size() < MAX_HEAD && (b = in.read()) != -1; ) {
      head.write(b);
      last4 = (last4 << 8) | b;
      if (last4 == CRLF_CRLF) {
        complete = true;
        break;
      }
    }
    heads.add(head.toByteArray());
    if (!complete) {
      return;
    }
    String text = head.toString(StandardCharsets.ISO_8859_1);
    String requestLine = text.substring(0, text.indexOf("\r\n"));
    byte[] body =
        ("hello from " + name + " over plaintext: " + requestLine + "\n")
            .getBytes(StandardCharsets.UTF_8);
    String response =
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
            + body.length
            + "\r\nConnection: close\r\n\r\n";
    OutputStream out = socket.getOutputStream();
    out.write(response.getBytes(StandardCharsets.US_ASCII));
    out.write(body);
    out.flush();
    socket.shutdownOutput();
    // Let the client read the answer and close first; a close on our side with unread request
    // bytes would reset the connection.
    while (in.read() != -1) {
      // discard
    }
  }
}
