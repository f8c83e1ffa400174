package io.tollgate.it;

import org.junit.jupiter.api.condition.EnabledIf;

/**
 * The refusal tarpit on {@code io.transport = io_uring}: a held client's FIN or reset must free its
 * place at once there too, though client sockets are read under backpressure after a FIN (the
 * tarpit gives its held sockets Netty's way back, {@code InputAfterFin.toEnd}).
 */
@EnabledIf("io.netty.channel.uring.IoUring#isAvailable")
class IoUringRefusalTarpitTest extends RefusalTarpitTest {
  @Override
  String extraConfig() {
    return "io { transport = io_uring }";
  }
}
