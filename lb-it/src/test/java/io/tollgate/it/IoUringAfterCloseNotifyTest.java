package io.tollgate.it;

import org.junit.jupiter.api.condition.EnabledIf;

/** {@link AfterCloseNotifyTest} on {@code io.transport = io_uring}. */
@EnabledIf("io.netty.channel.uring.IoUring#isAvailable")
class IoUringAfterCloseNotifyTest extends AfterCloseNotifyTest {}
