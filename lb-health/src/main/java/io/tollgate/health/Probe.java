package io.tollgate.health;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;

/**
 * One check of one server, as {@link Monitor} runs it: {@link ServerProbe} over the network, a
 * scripted one in tests of the rise/fall rules.
 */
interface Probe {
  /** What one probe found; {@code detail} is what an operator reads in the log and status. */
  record Result(boolean ok, String detail) {
    static Result ok(String detail) {
      return new Result(true, detail);
    }

    static Result fail(String detail) {
      return new Result(false, detail);
    }
  }

  /** Starts a probe on {@code loop}; the future always succeeds, with an ok or failed result. */
  Future<Result> run(EventLoop loop);

  /** Probes from now on open TLS with {@code tls} (a reload built it from fresh files). */
  default void useTls(ProbeTls tls) {}
}
