/**
 * DNS-aware pools: {@link io.tollgate.dns.DnsLookups} asks the configured name servers (A, AAAA,
 * SRV) on a thread of its own, {@link io.tollgate.dns.DnsCounters} counts the outcomes per pool.
 * What a pool does with the answers lives in {@link io.tollgate.snapshot.PoolServers}.
 */
package io.tollgate.dns;
