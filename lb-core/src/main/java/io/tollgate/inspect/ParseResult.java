package io.tollgate.inspect;

import java.util.Objects;

/**
 * Outcome of one {@link ClientHelloParser#parse} call: wait for more bytes, a complete hello, or a
 * definitive failure. A {@link Failed} or {@link Done} result never changes when more bytes arrive.
 */
public sealed interface ParseResult
    permits ParseResult.NeedMore, ParseResult.Done, ParseResult.Failed {

  /** The bytes so far are a valid prefix of a ClientHello; call again when more have arrived. */
  enum NeedMore implements ParseResult {
    INSTANCE;

    @Override
    public String toString() {
      return "NeedMore";
    }
  }

  /** The complete ClientHello was found and is well formed. */
  record Done(ClientHello hello) implements ParseResult {
    public Done {
      Objects.requireNonNull(hello, "hello");
    }
  }

  /**
   * The bytes cannot become a valid ClientHello (or exceed the size limit).
   *
   * @param detail human-readable explanation for logs; never contains raw client bytes beyond a
   *     short escaped excerpt
   */
  record Failed(HelloFailure failure, String detail) implements ParseResult {
    public Failed {
      Objects.requireNonNull(failure, "failure");
      Objects.requireNonNull(detail, "detail");
    }
  }

  /** The {@link NeedMore} singleton. */
  static ParseResult needMore() {
    return NeedMore.INSTANCE;
  }
}
