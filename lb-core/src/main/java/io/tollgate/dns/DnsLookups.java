package io.tollgate.dns;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DefaultDnsRecordDecoder;
import io.netty.handler.codec.dns.DnsRawRecord;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.resolver.ResolvedAddressTypes;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.DnsServerAddressStreamProviders;
import io.netty.resolver.dns.DnsServerAddresses;
import io.netty.resolver.dns.NoopAuthoritativeDnsServerCache;
import io.netty.resolver.dns.NoopDnsCache;
import io.netty.resolver.dns.NoopDnsCnameCache;
import io.netty.resolver.dns.SequentialDnsServerAddressStreamProvider;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.Future;
import io.tollgate.config.DnsConfig;
import io.tollgate.config.HostPort;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The resolver of DNS-aware pools ({@code tollgate.dns}): Netty's {@link DnsNameResolver} on one
 * event loop of its own (thread {@code tollgate-dns}), never a data-path loop. Nothing is cached
 * here: a pool asks every {@code resolve-every} and wants the answer of now. {@code /etc/hosts} is
 * read first, as the system resolver does. Results complete on the DNS loop; what a pool makes of
 * them runs on {@link #schedule}'s thread, the same loop, so pool updates never overlap.
 */
public final class DnsLookups implements AutoCloseable {
  private final DnsConfig config;
  private final DnsCounters counters;
  private final EventLoopGroup group;
  private final DnsNameResolver resolver;

  private DnsLookups(DnsConfig config, DnsCounters counters) {
    this.config = config;
    this.counters = counters;
    this.group =
        new MultiThreadIoEventLoopGroup(
            1, new DefaultThreadFactory("tollgate-dns", true), NioIoHandler.newFactory());
    DnsNameResolverBuilder b =
        new DnsNameResolverBuilder(group.next())
            .datagramChannelType(NioDatagramChannel.class)
            .socketChannelType(NioSocketChannel.class)
            .resolveCache(NoopDnsCache.INSTANCE)
            .cnameCache(NoopDnsCnameCache.INSTANCE)
            .authoritativeDnsServerCache(NoopAuthoritativeDnsServerCache.INSTANCE)
            .resolvedAddressTypes(ResolvedAddressTypes.IPV4_PREFERRED)
            .queryTimeoutMillis(config.timeout().toMillis());
    if (config.servers().isEmpty()) {
      b.nameServerProvider(DnsServerAddressStreamProviders.platformDefault());
    } else {
      List<InetSocketAddress> servers = new ArrayList<>();
      for (HostPort hp : config.servers()) {
        servers.add(new InetSocketAddress(hp.host(), hp.port()));
      }
      b.nameServerProvider(
              new SequentialDnsServerAddressStreamProvider(
                  DnsServerAddresses.sequential(servers).stream().next()))
          .searchDomains(List.of());
    }
    this.resolver = b.build();
  }

  /** Starts the resolver's event loop. */
  public static DnsLookups start(DnsConfig config, DnsCounters counters) {
    return new DnsLookups(config, counters);
  }

  public DnsConfig config() {
    return config;
  }

  public DnsCounters counters() {
    return counters;
  }

  /** Every A and AAAA address of {@code host} (IPv4 first), or a failure saying why none. */
  public CompletableFuture<List<InetAddress>> addresses(String host) {
    CompletableFuture<List<InetAddress>> out = new CompletableFuture<>();
    try {
      resolver
          .resolveAll(host)
          .addListener(
              (Future<List<InetAddress>> f) -> {
                if (f.isSuccess()) {
                  out.complete(List.copyOf(f.getNow()));
                } else {
                  out.completeExceptionally(f.cause());
                }
              });
    } catch (RuntimeException e) {
      out.completeExceptionally(e);
    }
    return out;
  }

  /** The SRV records of {@code name}. */
  public CompletableFuture<List<SrvRecord>> srv(String name) {
    CompletableFuture<List<SrvRecord>> out = new CompletableFuture<>();
    try {
      resolver
          .resolveAll(new DefaultDnsQuestion(name, DnsRecordType.SRV))
          .addListener(
              (Future<List<DnsRecord>> f) -> {
                if (!f.isSuccess()) {
                  out.completeExceptionally(f.cause());
                  return;
                }
                List<SrvRecord> records = new ArrayList<>();
                try {
                  for (DnsRecord r : f.getNow()) {
                    if (r.type() == DnsRecordType.SRV && r instanceof DnsRawRecord raw) {
                      records.add(decodeSrv(raw.content()));
                    }
                  }
                  out.complete(records);
                } catch (RuntimeException e) {
                  out.completeExceptionally(e);
                } finally {
                  f.getNow().forEach(ReferenceCountUtil::release);
                }
              });
    } catch (RuntimeException e) {
      out.completeExceptionally(e);
    }
    return out;
  }

  /** RFC 2782 RDATA: priority, weight, port (16 bits each), then the target name. */
  private static SrvRecord decodeSrv(ByteBuf content) {
    ByteBuf in = content.duplicate();
    int priority = in.readUnsignedShort();
    int weight = in.readUnsignedShort();
    int port = in.readUnsignedShort();
    String target = DefaultDnsRecordDecoder.decodeName(in);
    if (target.endsWith(".")) {
      target = target.substring(0, target.length() - 1);
    }
    return new SrvRecord(priority, weight, port, target);
  }

  /** Runs {@code task} on the DNS loop after {@code delayNanos}. */
  public ScheduledFuture<?> schedule(Runnable task, long delayNanos) {
    return group.next().schedule(task, delayNanos, TimeUnit.NANOSECONDS);
  }

  /** Runs {@code task} on the DNS loop. */
  public void execute(Runnable task) {
    group.next().execute(task);
  }

  @Override
  public void close() {
    resolver.close();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
  }
}
