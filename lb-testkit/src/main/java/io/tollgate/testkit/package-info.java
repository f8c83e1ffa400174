/**
 * Test support shared by every module, taken at test scope: one TLS test client and one test server
 * (TLS or plain), deterministic data patterns with their SHA-256, bounded waits, command line tools
 * (curl, openssl) found or skipped, and the leak check that fails a test class when Netty's
 * detector reports a leak. It depends on lb-pki only, so the modules it tests can all use it
 * without a cycle.
 */
package io.tollgate.testkit;
