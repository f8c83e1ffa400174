package io.tollgate.testkit;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsQueryDecoder;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DatagramDnsResponseEncoder;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import io.netty.util.NetUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small authoritative DNS server on 127.0.0.1 (UDP) whose records a test changes while it runs:
 * A, AAAA and SRV records per name, answered with TTL 0. A name it does not know gets NXDOMAIN; a
 * known name without records of the asked type gets an empty NOERROR answer. {@link #failing} makes
 * every answer SERVFAIL, the way a broken name server looks to a resolver.
 */
public final class TestDnsServer implements AutoCloseable {
  /** One SRV record. */
  public record Srv(int priority, int weight, int port, String target) {}

  private record Records(List<String> a, List<String> aaaa, List<Srv> srv) {}

  private final EventLoopGroup group;
  private final Channel channel;
  private final Map<String, Records> zone = new ConcurrentHashMap<>();
  private final AtomicInteger queries = new AtomicInteger();
  private volatile boolean failing;

  /** What names without records of their own get; null: NXDOMAIN. */
  private volatile Records everyOtherName;

  private TestDnsServer() throws InterruptedException {
    group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    channel =
        new Bootstrap()
            .group(group)
            .channel(NioDatagramChannel.class)
            .handler(
                new ChannelInitializer<DatagramChannel>() {
                  @Override
                  protected void initChannel(DatagramChannel ch) {
                    ch.pipeline()
                        .addLast(new DatagramDnsQueryDecoder())
                        .addLast(new DatagramDnsResponseEncoder())
                        .addLast(new Answerer());
                  }
                })
            .bind("127.0.0.1", 0)
            .sync()
            .channel();
  }

  /** Starts a server on a free UDP port of 127.0.0.1. */
  public static TestDnsServer start() throws InterruptedException {
    return new TestDnsServer();
  }

  public int port() {
    return ((InetSocketAddress) channel.localAddress()).getPort();
  }

  /** {@code 127.0.0.1:port}, as {@code tollgate.dns.servers} takes it. */
  public String address() {
    return "127.0.0.1:" + port();
  }

  /** Sets (replaces) the A records of {@code name}; none leaves it known without A records. */
  public TestDnsServer a(String name, String... ipv4) {
    zone.compute(
        key(name),
        (k, r) ->
            new Records(
                List.of(ipv4), r == null ? List.of() : r.aaaa(), r == null ? List.of() : r.srv()));
    return this;
  }

  /** Sets (replaces) the AAAA records of {@code name}. */
  public TestDnsServer aaaa(String name, String... ipv6) {
    zone.compute(
        key(name),
        (k, r) ->
            new Records(
                r == null ? List.of() : r.a(), List.of(ipv6), r == null ? List.of() : r.srv()));
    return this;
  }

  /** Sets (replaces) the SRV records of {@code name}. */
  public TestDnsServer srv(String name, Srv... records) {
    zone.compute(
        key(name),
        (k, r) ->
            new Records(
                r == null ? List.of() : r.a(), r == null ? List.of() : r.aaaa(), List.of(records)));
    return this;
  }

  /**
   * Answers every name without records of its own with this IPv4 address (and no other records),
   * for a program that must reach a loopback server under any test name (pebble's validator).
   */
  public TestDnsServer everyOtherName(String ipv4) {
    everyOtherName = new Records(List.of(ipv4), List.of(), List.of());
    return this;
  }

  /** Forgets {@code name}: it gets NXDOMAIN from now on. */
  public TestDnsServer remove(String name) {
    zone.remove(key(name));
    return this;
  }

  /** While on, every query gets SERVFAIL. */
  public void failing(boolean on) {
    failing = on;
  }

  /** Queries answered so far. */
  public int queries() {
    return queries.get();
  }

  private static String key(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
  }

  private final class Answerer extends SimpleChannelInboundHandler<DatagramDnsQuery> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramDnsQuery query) {
      queries.incrementAndGet();
      DatagramDnsResponse response =
          new DatagramDnsResponse(query.recipient(), query.sender(), query.id());
      response.setAuthoritativeAnswer(true);
      response.setRecursionDesired(query.isRecursionDesired());
      DnsQuestion q = query.recordAt(DnsSection.QUESTION);
      if (q == null) {
        response.setCode(DnsResponseCode.FORMERR);
        ctx.writeAndFlush(response);
        return;
      }
      response.addRecord(DnsSection.QUESTION, new DefaultDnsQuestion(q.name(), q.type()));
      Records r = zone.get(key(q.name()));
      if (r == null) {
        r = everyOtherName;
      }
      if (failing) {
        response.setCode(DnsResponseCode.SERVFAIL);
      } else if (r == null) {
        response.setCode(DnsResponseCode.NXDOMAIN);
      } else if (q.type() == DnsRecordType.A) {
        r.a().forEach(ip -> answer(response, q, ip));
      } else if (q.type() == DnsRecordType.AAAA) {
        r.aaaa().forEach(ip -> answer(response, q, ip));
      } else if (q.type() == DnsRecordType.SRV) {
        for (Srv s : r.srv()) {
          ByteBuf data = Unpooled.buffer();
          data.writeShort(s.priority()).writeShort(s.weight()).writeShort(s.port());
          for (String label : key(s.target()).split("\\.")) {
            byte[] b = label.getBytes(StandardCharsets.US_ASCII);
            data.writeByte(b.length).writeBytes(b);
          }
          data.writeByte(0);
          response.addRecord(
              DnsSection.ANSWER, new DefaultDnsRawRecord(q.name(), DnsRecordType.SRV, 0, data));
        }
      }
      ctx.writeAndFlush(response);
    }

    private void answer(DatagramDnsResponse response, DnsQuestion q, String ip) {
      byte[] bytes = NetUtil.createByteArrayFromIpAddressString(ip);
      response.addRecord(
          DnsSection.ANSWER,
          new DefaultDnsRawRecord(q.name(), q.type(), 0, Unpooled.wrappedBuffer(bytes)));
    }
  }

  @Override
  public void close() {
    channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
  }

  /** Names it knows, for a failure message. */
  @Override
  public String toString() {
    return "TestDnsServer " + address() + " " + new ArrayList<>(zone.keySet());
  }
}
