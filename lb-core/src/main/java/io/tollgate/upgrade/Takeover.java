package io.tollgate.upgrade;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.DomainSocketReadMode;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.PeerCredentials;
import io.tollgate.listener.InheritedSockets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The new process's side of a live upgrade ({@code run --inherit-from SOCKET}): receives the
 * listening sockets from the old process, tells it once they accept ({@link #started}), and after
 * its go-ahead that the pid file and admin endpoint are this process's ({@link #running}). Any
 * failure before that is reported back ({@link #failed}), so {@code tollgate upgrade} can print it
 * while the old process keeps serving.
 */
public final class Takeover implements AutoCloseable {
  private final EventLoopGroup loop;
  private final EpollDomainSocketChannel channel;
  private final BlockingQueue<Object> events;
  private final InheritedSockets sockets;

  private Takeover(
      EventLoopGroup loop,
      EpollDomainSocketChannel channel,
      BlockingQueue<Object> events,
      InheritedSockets sockets) {
    this.loop = loop;
    this.channel = channel;
    this.events = events;
    this.sockets = sockets;
  }

  /**
   * Connects to the old process and receives its listening sockets.
   *
   * @throws IOException when the socket is not in a private directory of this user, its peer is
   *     another user, or the sockets do not all arrive in time
   */
  public static Takeover connect(Path socket, Duration limit)
      throws IOException, InterruptedException {
    Path dir = socket.toAbsolutePath().getParent();
    int uid = HandoffChannel.ownerUid(dir);
    String mode =
        java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(dir));
    if (!mode.equals("rwx------")) {
      throw new IOException(dir + " is " + mode + ", not private (rwx------): not taking over");
    }
    List<String> names = Files.readAllLines(dir.resolve(HandoffChannel.MANIFEST));
    BlockingQueue<Object> events = HandoffChannel.newQueue();
    EventLoopGroup loop = HandoffChannel.newLoop("takeover");
    EpollDomainSocketChannel channel;
    try {
      channel =
          (EpollDomainSocketChannel)
              new Bootstrap()
                  .group(loop)
                  .channel(EpollDomainSocketChannel.class)
                  // Descriptors first; lines only after all have arrived and we spoke.
                  .option(
                      EpollChannelOption.DOMAIN_SOCKET_READ_MODE,
                      DomainSocketReadMode.FILE_DESCRIPTORS)
                  .handler(HandoffChannel.queueing(events))
                  .connect(new DomainSocketAddress(socket.toFile()))
                  .syncUninterruptibly()
                  .channel();
    } catch (RuntimeException e) {
      loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      throw new IOException("cannot connect to " + socket + ": " + e.getMessage(), e);
    }
    List<InheritedSockets.Socket> received = new ArrayList<>();
    try {
      PeerCredentials peer = channel.peerCredentials();
      if (peer.uid() != uid) {
        throw new IOException("the hand-off peer is uid " + peer.uid() + ", not " + uid);
      }
      long deadline = HandoffChannel.deadline(limit);
      while (received.size() < names.size()) {
        Object e = HandoffChannel.next(events, deadline);
        if (e == channel) {
          continue;
        }
        if (e instanceof FileDescriptor fd) {
          received.add(new InheritedSockets.Socket(names.get(received.size()), fd.intValue()));
        } else {
          throw new IOException(
              "received "
                  + received.size()
                  + " of "
                  + names.size()
                  + " listening sockets, then "
                  + (e == null ? "nothing within " + limit : e));
        }
      }
      // The old process sends nothing more until it hears from us: no line can be read as a
      // descriptor, nor a descriptor as a line.
      channel.config().setReadMode(DomainSocketReadMode.BYTES);
      return new Takeover(loop, channel, events, InheritedSockets.of(received));
    } catch (IOException | RuntimeException | InterruptedException e) {
      for (InheritedSockets.Socket s : received) {
        new FileDescriptor(s.fd()).close();
      }
      channel.close().awaitUninterruptibly();
      loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      throw e;
    }
  }

  /** The listening sockets, by listener name, for {@code Tollgate.start}. */
  public InheritedSockets sockets() {
    return sockets;
  }

  /** This process does not take over: why, one line each, for the old process to report. */
  public void failed(List<String> errors) {
    StringBuilder sb = new StringBuilder();
    for (String error : errors) {
      for (String line : error.split("\n")) {
        sb.append("error: ").append(line).append('\n');
      }
    }
    sb.append("failed\n");
    channel.writeAndFlush(sb.toString()).awaitUninterruptibly(5, TimeUnit.SECONDS);
  }

  /**
   * This process accepts: waits for the old one to stop accepting. An old process that gives up
   * stops this one (SIGTERM); one that goes away instead (a crash) has left the sockets to this
   * one, which then serves.
   *
   * @return false when no go-ahead came in time and the old process is still there
   */
  public boolean started(Duration limit) throws InterruptedException {
    channel.writeAndFlush("started\n");
    long deadline = HandoffChannel.deadline(limit);
    for (Object e; (e = HandoffChannel.next(events, deadline)) != null; ) {
      if ("go".equals(e) || e == HandoffChannel.CLOSED) {
        return true;
      }
    }
    return false;
  }

  /** The pid file and admin endpoint are this process's now. */
  public void running() {
    channel
        .writeAndFlush("running " + ProcessHandle.current().pid() + "\n")
        .awaitUninterruptibly(5, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }
}
