package io.tollgate.it;

/**
 * {@link SessionIsolationTest} with the JDK provider (the fallback when BoringSSL cannot load):
 * there, every route's context has its own session cache and its own ticket keys (JDK 17 keeps them
 * per {@code SSLSessionContext}), and the JDK also refuses to resume a session under another SNI or
 * without a client certificate on a {@code require} route.
 */
class SessionIsolationJdkProviderTest extends SessionIsolationTest
    implements SessionIsolationTest.WithJdkProvider {}
