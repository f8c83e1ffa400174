package io.tollgate.listener;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.util.concurrent.ThreadAwareExecutor;
import java.util.function.UnaryOperator;

/**
 * A Netty {@link IoHandler} that hands everything to Netty's own, but for the registrations a
 * subclass mends ({@link RearmingEpollIoHandler}, {@link PollOutAfterFinIoUringHandler}).
 */
abstract class DelegatingIoHandler implements IoHandler {
  protected final IoHandler netty;

  DelegatingIoHandler(IoHandler netty) {
    this.netty = netty;
  }

  /** {@code netty}'s factory, each handler it makes passed through {@code wrap}. */
  static IoHandlerFactory wrapping(IoHandlerFactory netty, UnaryOperator<IoHandler> wrap) {
    return new IoHandlerFactory() {
      @Override
      public IoHandler newHandler(ThreadAwareExecutor executor) {
        return wrap.apply(netty.newHandler(executor));
      }

      @Override
      public boolean isChangingThreadSupported() {
        return netty.isChangingThreadSupported();
      }
    };
  }

  @Override
  public void initialize() {
    netty.initialize();
  }

  @Override
  public int run(IoHandlerContext context) {
    return netty.run(context);
  }

  @Override
  public void prepareToDestroy() {
    netty.prepareToDestroy();
  }

  @Override
  public void destroy() {
    netty.destroy();
  }

  @Override
  public void wakeup() {
    netty.wakeup();
  }

  @Override
  public boolean isCompatible(Class<? extends IoHandle> handleType) {
    return netty.isCompatible(handleType);
  }
}
