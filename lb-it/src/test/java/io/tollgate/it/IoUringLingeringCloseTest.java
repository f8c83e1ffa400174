package io.tollgate.it;

import org.junit.jupiter.api.condition.EnabledIf;

/** {@link LingeringCloseTest} on {@code io.transport = io_uring}. */
@EnabledIf("io.netty.channel.uring.IoUring#isAvailable")
class IoUringLingeringCloseTest extends LingeringCloseTest {}
