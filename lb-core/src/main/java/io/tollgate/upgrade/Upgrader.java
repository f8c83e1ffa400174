package io.tollgate.upgrade;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.PeerCredentials;
import io.tollgate.Tollgate;
import io.tollgate.ops.SystemdNotifier;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The old process's side of a live upgrade ({@code tollgate upgrade}, SIGUSR2, {@code POST
 * /upgrade}): starts the successor with {@code --inherit-from SOCKET}, hands it every listening
 * socket with its listener name over that Unix socket, and waits until it accepts. Only then does
 * this process stop accepting (its copies of the sockets close; the successor's stay open, so not a
 * connection is refused) and stop, draining its open connections for {@code timeouts.drain}. If the
 * successor fails to start, exits or is not ready in time, it is stopped and this process goes on
 * serving as if nothing happened; the result says why.
 *
 * <p>The Unix socket lives in a new directory only this user can enter (0700), and the peer must be
 * the process just started (SO_PEERCRED: its pid and this uid). One upgrade at a time.
 */
public final class Upgrader {
  private static final Logger log = LoggerFactory.getLogger(Upgrader.class);

  /**
   * What an upgrade did.
   *
   * @param ok whether the new process took over (this one is draining and will exit)
   * @param oldPid this process
   * @param newPid the successor, or 0 when it did not take over
   * @param errors why not, one line each
   */
  public record Result(boolean ok, long oldPid, long newPid, List<String> errors) {
    public Result {
      errors = List.copyOf(errors);
    }

    static Result failed(List<String> errors) {
      return new Result(false, ProcessHandle.current().pid(), 0, errors);
    }

    /** For a file or a log: {@code ok NEWPID}, or {@code failed} and one error a line. */
    public String text() {
      StringBuilder sb = new StringBuilder(ok ? "ok " + newPid : "failed").append('\n');
      errors.forEach(e -> sb.append(e).append('\n'));
      return sb.toString();
    }
  }

  /** What the old process does around the switch; supplied by whoever runs it. */
  public interface Hooks {
    /** Just before this process stops accepting: free what the successor binds (admin). */
    void release();

    /** The successor accepts: start the drain and exit. */
    void stop();
  }

  /** Where SIGUSR2's outcome goes for {@code tollgate upgrade --pid-file F}: {@code F.upgrade}. */
  public static Path outcomeFile(Path pidFile) {
    return pidFile.resolveSibling(pidFile.getFileName() + ".upgrade");
  }

  private final Tollgate tollgate;
  private final LaunchCommand launch;
  private final Hooks hooks;
  private final Duration readyTimeout;
  private final ReentrantLock running = new ReentrantLock();

  /**
   * @param readyTimeout how long the successor may take to build its config and TLS contexts
   */
  public Upgrader(Tollgate tollgate, LaunchCommand launch, Hooks hooks, Duration readyTimeout) {
    this.tollgate = tollgate;
    this.launch = launch;
    this.hooks = hooks;
    this.readyTimeout = readyTimeout;
  }

  /**
   * Runs one upgrade; blocks until the successor accepts, or has failed.
   *
   * @param trigger who asked, for the log
   */
  public Result upgrade(String trigger) {
    return upgrade(trigger, r -> {});
  }

  /**
   * As {@link #upgrade(String)}; {@code report} gets the result before this process begins to stop,
   * so it can tell whoever asked (the stop may end the process quickly).
   */
  public Result upgrade(String trigger, Consumer<Result> report) {
    if (!running.tryLock()) {
      Result busy = Result.failed(List.of("an upgrade is already in progress"));
      report.accept(busy);
      return busy;
    }
    try {
      // No reload may move a listening socket while their numbers are being handed over.
      tollgate.upgrading(true);
      log.info("Upgrade ({}): starting a new Tollgate process", trigger);
      // A balancer polling /ready stops sending here while the change is under way; the new
      // process answers ready once it runs, and this one gets readiness back if the change fails.
      tollgate.readiness().withdraw("upgrade");
      Result r;
      try {
        r = attempt();
      } catch (RuntimeException e) {
        log.error("Upgrade failed unexpectedly", e);
        r = Result.failed(List.of("upgrade failed unexpectedly: " + e));
      }
      if (r.ok()) {
        log.info(
            "Upgrade: process {} accepts now; this process ({}) stopped accepting and drains",
            r.newPid(),
            r.oldPid());
        // systemd (Type=notify) follows the new process, not this one's coming exit.
        SystemdNotifier.fromEnvironment()
            .mainPid(r.newPid(), "upgraded: process " + r.newPid() + " serves");
        report.accept(r);
        hooks.stop();
      } else {
        tollgate.upgrading(false);
        tollgate.readiness().restore();
        report.accept(r);
        log.error(
            "Upgrade failed; this process keeps serving: {}", String.join("\n  ", r.errors()));
      }
      return r;
    } finally {
      running.unlock();
    }
  }

  private Result attempt() {
    if (!tollgate.transportName().equals("epoll")) {
      return Result.failed(
          List.of(
              "upgrade needs the epoll transport (Linux); this process runs "
                  + tollgate.transportName()
                  + ": restart it instead"));
    }
    if (tollgate.isShuttingDown()) {
      return Result.failed(List.of("this Tollgate is shutting down"));
    }
    Path dir;
    try {
      dir =
          Files.createTempDirectory(
              "tollgate-upgrade-",
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    } catch (IOException | UnsupportedOperationException e) {
      return Result.failed(List.of("cannot create the hand-off directory: " + e));
    }
    EventLoopGroup loop = HandoffChannel.newLoop("upgrade");
    try {
      return handOff(dir, loop);
    } catch (IOException e) {
      return Result.failed(List.of(e.getMessage() != null ? e.getMessage() : e.toString()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Result.failed(List.of("upgrade interrupted"));
    } finally {
      loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      deleteTree(dir);
    }
  }

  private Result handOff(Path dir, EventLoopGroup loop) throws IOException, InterruptedException {
    Map<String, Integer> sockets = tollgate.listeningSockets();
    Files.write(dir.resolve(HandoffChannel.MANIFEST), sockets.keySet(), StandardCharsets.UTF_8);
    int uid = HandoffChannel.ownerUid(dir);
    Path socketPath = dir.resolve(HandoffChannel.SOCKET);
    BlockingQueue<Object> events = HandoffChannel.newQueue();
    Channel server =
        new ServerBootstrap()
            .group(loop)
            .channel(EpollServerDomainSocketChannel.class)
            .childHandler(HandoffChannel.queueing(events))
            .bind(new DomainSocketAddress(socketPath.toFile()))
            .syncUninterruptibly()
            .channel();
    Process child;
    try {
      child =
          new ProcessBuilder(launch.withInheritFrom(socketPath))
              .inheritIO() // its log goes where this process's goes
              .start();
    } catch (IOException e) {
      server.close();
      return Result.failed(List.of("cannot start " + launch.command().get(0) + ": " + e));
    }
    child.onExit().thenRun(() -> events.add(new Exited(child.exitValue())));
    long deadline = HandoffChannel.deadline(readyTimeout);
    boolean committed = false;
    try {
      EpollDomainSocketChannel peer = awaitPeer(events, child, deadline);
      server.close();
      PeerCredentials cred = peer.peerCredentials();
      if (cred.pid() != child.pid() || cred.uid() != uid) {
        return Result.failed(
            List.of(
                "the hand-off socket was answered by pid "
                    + cred.pid()
                    + " uid "
                    + cred.uid()
                    + ", not the new process "
                    + child.pid()
                    + " of uid "
                    + uid));
      }
      for (int fd : sockets.values()) {
        peer.write(new FileDescriptor(fd)); // not closed: this process still accepts on it
      }
      peer.flush();
      List<String> errors = new ArrayList<>();
      while (true) {
        Object e = HandoffChannel.next(events, deadline);
        if (e == null) {
          errors.add(
              "the new process (pid "
                  + child.pid()
                  + ") was not ready within "
                  + readyTimeout.toSeconds()
                  + "s");
          return Result.failed(errors);
        }
        if (e instanceof String line) {
          if (line.equals("started")) {
            break;
          }
          if (line.startsWith("error: ")) {
            errors.add(line.substring("error: ".length()));
            continue;
          }
          if (line.equals("failed")) {
            return Result.failed(errors.isEmpty() ? List.of("the new process failed") : errors);
          }
        } else if (e instanceof Exited x) {
          errors.add("the new process exited with status " + x.status() + " before it was ready");
          return Result.failed(errors);
        } else if (e == HandoffChannel.CLOSED || e instanceof Throwable) {
          errors.add("the new process closed the hand-off socket before it was ready: " + e);
          return Result.failed(errors);
        }
      }
      // The successor accepts on the same sockets now; ours may close.
      committed = true;
      tollgate.stopAccepting();
      long newPid = child.pid();
      try {
        hooks.release();
        peer.writeAndFlush("go\n").syncUninterruptibly();
        long runningBy = HandoffChannel.deadline(Duration.ofSeconds(30));
        for (Object e; (e = HandoffChannel.next(events, runningBy)) != null; ) {
          if (e instanceof String line && line.startsWith("running ")) {
            break;
          }
          if (!(e instanceof String)) {
            log.warn("Upgrade: the new process {} went away after taking over: {}", newPid, e);
            break;
          }
        }
        peer.close();
      } catch (RuntimeException e) {
        // Past the point of no return: the new process accepts, ours are closed.
        log.warn("Upgrade: after the switch to process {}: {}", newPid, e.toString());
      }
      return new Result(true, ProcessHandle.current().pid(), newPid, List.of());
    } finally {
      server.close();
      if (!committed) {
        stop(child);
      }
    }
  }

  /** The first connection; only one process is expected, and the socket is closed after it. */
  private EpollDomainSocketChannel awaitPeer(
      BlockingQueue<Object> events, Process child, long deadline)
      throws InterruptedException, IOException {
    for (Object e; (e = HandoffChannel.next(events, deadline)) != null; ) {
      if (e instanceof EpollDomainSocketChannel peer) {
        return peer;
      }
      if (e instanceof Exited x) {
        throw new IOException(
            "the new process exited with status " + x.status() + " before it connected");
      }
    }
    throw new IOException(
        "the new process (pid " + child.pid() + ") did not connect within " + readyTimeout);
  }

  private static void stop(Process child) {
    if (!child.isAlive()) {
      return;
    }
    child.destroy();
    try {
      if (!child.waitFor(10, TimeUnit.SECONDS)) {
        child.destroyForcibly();
      }
    } catch (InterruptedException e) {
      child.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      log.warn("could not remove {}: {}", dir, e.toString());
    }
  }

  private record Exited(int status) {}
}
