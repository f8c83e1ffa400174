/**
 * Connection counters and their Prometheus export ({@link io.tollgate.metrics.Metrics#scrape()}):
 * LongAdders on the data path, histograms for ClientHello size, handshake and connect times, and
 * gauges read from the snapshot in force (server health, certificate expiry).
 */
package io.tollgate.metrics;
