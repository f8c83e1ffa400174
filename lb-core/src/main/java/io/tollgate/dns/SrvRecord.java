package io.tollgate.dns;

/** One SRV record's data: where ({@code target:port}) and how much (priority, weight). */
public record SrvRecord(int priority, int weight, int port, String target) {}
